import { allowedSignerLine, type SigningKey } from '@changemaker/release-bundle';
import { bakedAllowedSigners, signingKeyFileVariable, signingKeyVariable, trustedReleaseKeys } from '@changemaker/release-contract';

/** The two lists a server checks a release's signature against, and how a message names them. */
export interface TrustLists {
  /** The product's allowed_signers: what an installation trusts, so upgrade.sh's list for the next release. */
  allowedSigners: { name: string; text: string | undefined };
  /** install.sh, whose baked_allowed_signers verifies a first install; undefined when none is shipped. */
  installScript: { name: string; text: string | undefined };
}

export const unsignedReleaseProblem =
  `no release signing key: set ${signingKeyFileVariable} (a path) or ${signingKeyVariable} (the key); install.sh and upgrade.sh refuse an unsigned release on every server (README, "Signing keys").`;

/**
 * Why servers would refuse a release signed with `key`, or undefined when both lists trust it. A
 * key missing from them still signs, and packaging adds it to the tarball's own list, but the
 * one-line install on a new server (install.sh's baked keys) refuses the release, and so does the
 * upgrade of any installation whose list never held it: the release would be public and unusable.
 */
export async function untrustedSigningKeyProblem(key: SigningKey, lists: TrustLists): Promise<string | undefined> {
  const line = await allowedSignerLine(key);
  const [signer] = trustedReleaseKeys(line);
  const untrustedBy: string[] = [];
  if (!trustedReleaseKeys(lists.allowedSigners.text ?? '').has(signer!)) untrustedBy.push(lists.allowedSigners.name);
  if (lists.installScript.text !== undefined && !trustedReleaseKeys(bakedAllowedSigners(lists.installScript.text) ?? '').has(signer!)) {
    untrustedBy.push(`baked_allowed_signers in ${lists.installScript.name}`);
  }
  if (untrustedBy.length === 0) return undefined;
  return `the signing key from ${key.origin} is not in ${untrustedBy.join(' or ')}, so servers would refuse the release it signs: add the line "${line}" to ${untrustedBy.join(' and ')}, commit, and run again (README, "Signing keys").`;
}
