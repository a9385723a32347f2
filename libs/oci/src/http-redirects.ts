/**
 * Following redirects, the same way for the registry and for Gitea: both hand blob and asset
 * downloads to object storage (S3, a CDN) with a redirect to a signed URL on another host.
 */

/** One hop reaches object storage; a few allow for a proxy in front. A loop never ends on its own. */
export const maxRedirectHops = 5;

export function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** Where a redirect points, its Location resolved against the URL that answered with it. */
export function redirectTarget(location: string | undefined, answeredUrl: string | URL): URL {
  return new URL(location ?? '', answeredUrl);
}
