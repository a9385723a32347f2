import { signatureNamespace, signerPrincipal } from './release-signing';

/**
 * Where install.sh keeps the keys its one-line install trusts (the release's allowed_signers does
 * not exist yet on a new server): relative to the product's root and to the tarball's top directory.
 */
export const installScriptPath = 'scripts/install.sh';

/**
 * The keys (`<type> <base64>`) that `ssh-keygen -Y verify -I release@changemaker-lite -n
 * changemaker-lite-release`, as install.sh and upgrade.sh run it, accepts from this allowed_signers
 * text: lines whose principals match ours, not a certificate authority, and whose `namespaces=`
 * (when given) includes ours. ssh-keygen's format: `principals [options] keytype base64 [comment]`.
 */
export function trustedReleaseKeys(allowedSigners: string): Set<string> {
  const keys = new Set<string>();
  for (const line of allowedSigners.split('\n')) {
    const fields = line.trim().match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
    if (fields.length === 0 || fields[0]!.startsWith('#')) continue;
    const typeAt = fields.findIndex((field, index) => index > 0 && isKeyType(field));
    if (typeAt < 1 || typeAt + 1 >= fields.length) continue;
    const options = fields.slice(1, typeAt).join(',');
    if (matchesPatternList(signerPrincipal, fields[0]!) && allowsReleaseSignatures(options)) keys.add(`${fields[typeAt]} ${fields[typeAt + 1]}`);
  }
  return keys;
}

/** The body of install.sh's `baked_allowed_signers='…'`; undefined when the script has none. */
export function bakedAllowedSigners(installScript: string): string | undefined {
  return /^baked_allowed_signers='([^']*)'$/m.exec(installScript)?.[1];
}

function isKeyType(field: string): boolean {
  return /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-[a-z0-9@.-]+)$/.test(field);
}

function allowsReleaseSignatures(options: string): boolean {
  const names = options.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).filter(Boolean);
  if (names.some((option) => option.toLowerCase() === 'cert-authority')) return false;
  const namespaces = names.find((option) => option.toLowerCase().startsWith('namespaces='));
  return namespaces === undefined || matchesPatternList(signatureNamespace, namespaces.slice('namespaces='.length).replace(/^"|"$/g, ''));
}

/** OpenSSH's pattern lists: comma-separated, `*` and `?` wildcards, a `!` pattern that matches refuses. */
function matchesPatternList(value: string, list: string): boolean {
  let matched = false;
  for (const pattern of list.split(',')) {
    const negated = pattern.startsWith('!');
    if (!globMatches(value, negated ? pattern.slice(1) : pattern)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function globMatches(value: string, pattern: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(value);
}
