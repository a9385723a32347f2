import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { allowedSignerLine, signingKeyFromEnv, type SigningKey } from '@changemaker/release-bundle';
import {
  allowedSignersFileName,
  bakedAllowedSigners,
  installScriptPath,
  signingKeyFileVariable,
  signingKeyVariable,
  trustedReleaseKeys,
} from '@changemaker/release-contract';

/** The two lists a server checks a release's signature against, and how a message names them. */
export interface TrustLists {
  /** The product's allowed_signers: what an installation trusts, so upgrade.sh's list for the next release. */
  allowedSigners: { name: string; text: string | undefined };
  /** install.sh, whose baked_allowed_signers verifies a first install; undefined when none is shipped. */
  installScript: { name: string; text: string | undefined };
}

/**
 * The released project: its name, which the commands a message advises run on; its root in the
 * workspace (`docker`), for messages; and that root's absolute path.
 */
export interface ProductLocation {
  name: string;
  root: string;
  path: string;
}

export const unsignedReleaseProblem =
  `no release signing key: set ${signingKeyFileVariable} (a path) or ${signingKeyVariable} (the key); install.sh and upgrade.sh refuse an unsigned release on every server (README, "Signing keys").`;

/**
 * Why servers would refuse a release signed with `key`, or undefined when both lists trust it. A
 * key missing from them still signs, and packaging adds it to the tarball's own list, but the
 * one-line install on a new server (install.sh's baked keys) refuses the release, and so does the
 * upgrade of any installation whose list never held it: the release would be public and unusable.
 * `cutTag` names the release when its commit is already cut (nx release publish): the way on then differs.
 */
export async function untrustedSigningKeyProblem(key: SigningKey, lists: TrustLists, cutTag?: string): Promise<string | undefined> {
  const line = await allowedSignerLine(key);
  const [signer] = trustedReleaseKeys(line);
  const untrustedBy: string[] = [];
  if (!trustedReleaseKeys(lists.allowedSigners.text ?? '').has(signer!)) untrustedBy.push(lists.allowedSigners.name);
  if (lists.installScript.text !== undefined && !trustedReleaseKeys(bakedAllowedSigners(lists.installScript.text) ?? '').has(signer!)) {
    untrustedBy.push(`baked_allowed_signers in ${lists.installScript.name}`);
  }
  if (untrustedBy.length === 0) return undefined;
  const refusal = `the signing key from ${key.origin} is not in ${untrustedBy.join(' or ')}, so servers would refuse the release it signs`;
  const addLine = `add the line "${line}" to ${untrustedBy.join(' and ')}`;
  if (cutTag === undefined) return `${refusal}: ${addLine}, commit, and run again (README, "Signing keys").`;
  // The release commit is already cut without the line, so a commit now would not be in this release.
  return (
    `${refusal}, and ${cutTag}'s release commit is already cut without it: set the key those lists hold and run npx nx release publish again; ` +
    `to trust this key instead, ${addLine}, commit, and cut a new release with npx nx release (README, "Signing keys").`
  );
}

/** Why the release the environment's key would sign is one no server installs. */
export interface SigningProblem {
  /** One line: what is wrong and what to do; never the key itself. */
  message: string;
  /** No key is set at all: a dry run notes it and goes on (README, "Dry run"); every other problem stops a dry run too. */
  missingKey: boolean;
}

/**
 * The release signing key from the environment, checked against the product's trust lists as the
 * release commit ships them; undefined when servers would install what it signs. Read before
 * anything is written or pushed: by nx release's preflight, and by each image task of nx release
 * publish (which runs no preflight) before it claims the release.
 */
export async function releaseSigningProblem(env: NodeJS.ProcessEnv, product: ProductLocation, cutTag?: string): Promise<SigningProblem | undefined> {
  const refused = (error: Error): SigningProblem => ({ message: error.message, missingKey: false });
  let key: SigningKey | undefined;
  try {
    key = await signingKeyFromEnv(env);
  } catch (error) {
    return refused(error as Error);
  }
  if (!key) return { message: unsignedReleaseProblem, missingKey: true };
  const untrusted = await untrustedSigningKeyProblem(key, await trustListsOf(product), cutTag).catch((error: Error) => error.message);
  return untrusted ? { message: untrusted, missingKey: false } : undefined;
}

/** The lists as the release commit will ship them: the product's files, read before anything is written. */
async function trustListsOf(product: ProductLocation): Promise<TrustLists> {
  const read = (file: string) => readFile(join(product.path, file), 'utf8').catch(() => undefined);
  return {
    allowedSigners: { name: `${product.root}/${allowedSignersFileName}`, text: await read(allowedSignersFileName) },
    installScript: { name: `${product.root}/${installScriptPath}`, text: await read(installScriptPath) },
  };
}
