import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IdentityTokenLogin } from './container-engine';

/**
 * A private directory for one push's login, so the user's own engine config is never written and
 * the credential is gone when the push is.
 */
export async function withTemporaryAuthDirectory<T>(use: (directory: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(join(tmpdir(), 'release-kit-auth-'));
  try {
    return await use(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/**
 * Writes an identity token where an engine's private auth file (docker's config.json, the
 * containers auth.json) expects what `docker login` stores, readable by the owner only. The
 * `auth` field is needed too: containers/image ignores an entry without one; `<token>` is the
 * username docker's credential helpers give identity tokens.
 */
export async function writeIdentityTokenAuthFile(file: string, login: IdentityTokenLogin): Promise<void> {
  const auth = Buffer.from('<token>:').toString('base64');
  await writeFile(file, `${JSON.stringify({ auths: { [login.host]: { auth, identitytoken: login.identityToken } } })}\n`, { mode: 0o600 });
}
