export type AuthChallenge =
  | { scheme: 'basic'; realm?: string }
  | { scheme: 'bearer'; realm: string; service?: string; scope?: string };

/** Parses the first challenge of a WWW-Authenticate header (registries send one). */
export function parseAuthChallenge(header: string | undefined): AuthChallenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = match[1].toLowerCase();
  const params = parseParams(match[2]);
  if (scheme === 'basic') return { scheme, realm: params['realm'] };
  if (scheme === 'bearer' && params['realm']) {
    return { scheme, realm: params['realm'], service: params['service'], scope: params['scope'] };
  }
  return undefined;
}

function parseParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  const pattern = /(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const [, key, quoted, bare] of text.matchAll(pattern)) {
    params[key.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : bare;
  }
  return params;
}
