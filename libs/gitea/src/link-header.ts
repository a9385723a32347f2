/** The `rel="next"` target of an RFC 8288 Link header, as Gitea sends on paged lists. */
export function nextPageUrl(linkHeader: string | string[] | undefined): string | undefined {
  const value = Array.isArray(linkHeader) ? linkHeader.join(',') : linkHeader;
  if (!value) return undefined;
  for (const part of value.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (match) return match[1];
  }
  return undefined;
}
