import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { allowedSignersFileName, bakedAllowedSigners, installScriptPath, signerPrincipal } from '@changemaker/release-contract';
import type { ThrowawayWorkspace } from './throwaway-workspace';

export interface TrustedSigningKey {
  /** The private key, for RELEASE_SIGNING_KEY_FILE. */
  keyFile: string;
  /** An allowed_signers file that trusts only this key, for ssh-keygen -Y verify. */
  allowedSigners: string;
  /** Its allowed_signers line: `release@changemaker-lite ssh-ed25519 AAAA…`. */
  line: string;
}

/**
 * A release manager's key, made up for a test, and what the release manager does once before the
 * first release (README, "Signing keys"): its line in the workspace's docker/allowed_signers and in
 * install.sh's baked keys, committed. nx release refuses a key that either list lacks.
 */
export async function trustedSigningKey(workspace: ThrowawayWorkspace, scratch: string): Promise<TrustedSigningKey> {
  const keyFile = join(scratch, 'release-signing-key');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test release key', '-f', keyFile]);
  const [type, blob] = (await readFile(`${keyFile}.pub`, 'utf8')).trim().split(/\s+/);
  const line = `${signerPrincipal} ${type} ${blob}`;
  const allowedSigners = join(scratch, allowedSignersFileName);
  await writeFile(allowedSigners, `${line}\n`);

  const product = join(workspace.root, 'docker');
  const shipped = join(product, allowedSignersFileName);
  await writeFile(shipped, `${await readFile(shipped, 'utf8')}${line}\n`);
  const installScript = join(product, installScriptPath);
  const script = await readFile(installScript, 'utf8');
  if (bakedAllowedSigners(script) === undefined) throw new Error(`${installScript} has no baked_allowed_signers block to add the release key to`);
  await writeFile(installScript, script.replace(/^baked_allowed_signers='\n/m, `baked_allowed_signers='\n${line}\n`));
  await workspace.commitAll('chore(release): trust the release signing key');
  return { keyFile, allowedSigners, line };
}
