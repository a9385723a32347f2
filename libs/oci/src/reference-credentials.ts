/**
 * user[:password]@ before the host of a reference, with or without a scheme (`ci:pw@ghcr.io/org/app`,
 * `https://ci:pw@ghcr.io/org/app`): an '@' with a '/' after it and none before it. A digest's '@'
 * comes after the name (`alpine@sha256:…`, `ghcr.io/org/app@sha256:…`), so it never matches.
 */
const credentialsBeforeHost = /^([a-z][a-z0-9+.-]*:\/\/)?[^/@]+@(?=[^/@]*\/)/i;

export const credentialsInReference =
  'carries credentials (user:password@ before the host); remove them and log in instead (docker login, or GITEA_REGISTRY_USER and GITEA_REGISTRY_PASSWORD for GITEA_REGISTRY)';

export function carriesCredentials(text: string): boolean {
  return credentialsBeforeHost.test(text);
}

/** The text as a message may show it: credentials before the host replaced by `***`. */
export function withoutCredentials(text: string): string {
  return text.replace(credentialsBeforeHost, '$1***@');
}
