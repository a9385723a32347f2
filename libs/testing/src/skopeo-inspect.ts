import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { RegistryCredentials } from './registry-server';

export interface SkopeoLogin {
  registry: string;
  credentials: RegistryCredentials;
}

/**
 * The digest of the manifest bytes skopeo reads (`skopeo inspect --raw`), as a second opinion
 * independent of libs/oci. `ref` is a skopeo transport reference, e.g. docker://host/repo:tag or
 * oci:/dir:tag. Credentials go through an auth file, never the command line.
 */
export async function skopeoManifestDigest(ref: string, login?: SkopeoLogin): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cm-skopeo-'));
  try {
    const args = ['inspect', '--raw'];
    if (ref.startsWith('docker://')) args.push('--tls-verify=false');
    if (login) {
      const authFile = join(dir, 'auth.json');
      const auth = Buffer.from(`${login.credentials.username}:${login.credentials.password}`).toString('base64');
      await writeFile(authFile, JSON.stringify({ auths: { [login.registry]: { auth } } }), { mode: 0o600 });
      args.push('--authfile', authFile);
    }
    const { stdout } = await execa('skopeo', [...args, ref], { encoding: 'buffer', stripFinalNewline: false });
    return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
