import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
export async function writeIdentityTokenAuthFile(file: string, login: IdentityTokenLogin, otherAuths: AuthEntries = {}): Promise<void> {
  const auth = Buffer.from('<token>:').toString('base64');
  await writeAuthFile(file, { ...otherAuths, [login.host]: { auth, identitytoken: login.identityToken } });
}

export type AuthEntries = Record<string, unknown>;

export async function writeAuthFile(file: string, auths: AuthEntries): Promise<void> {
  await writeFile(file, `${JSON.stringify({ auths })}\n`, { mode: 0o600 });
}

/**
 * The auth file buildah and podman read when given none (`REGISTRY_AUTH_FILE`, else where
 * `podman login` writes), which an `--authfile` replaces: a build that needs one for the layer
 * cache would otherwise pull its base images without the logins the user gave them.
 */
export function userContainersAuthFile(env: NodeJS.ProcessEnv): string | undefined {
  if (env['REGISTRY_AUTH_FILE']) return env['REGISTRY_AUTH_FILE'];
  if (env['XDG_RUNTIME_DIR']) return join(env['XDG_RUNTIME_DIR'], 'containers/auth.json');
  return process.getuid?.() === 0 ? '/run/containers/0/auth.json' : undefined;
}

/** The user's entries for every registry but `exceptHost`, whose login is the build's own; none when the file is missing or unreadable. */
export async function authEntriesExcept(file: string | undefined, exceptHost: string): Promise<AuthEntries> {
  if (!file) return {};
  try {
    const { auths = {} } = JSON.parse(await readFile(file, 'utf8')) as { auths?: AuthEntries };
    return Object.fromEntries(Object.entries(auths).filter(([host]) => host !== exceptHost));
  } catch {
    return {};
  }
}
