import { rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { whenStopped } from '@changemaker/oci';
import type { RegistryLogin } from './container-engine';
import { InvalidAuthFileError } from './errors';

/**
 * A private directory for one push's login, so the user's own engine config is never written and
 * the credential is gone when the push is.
 *
 * It lives for the whole build and push, often minutes, and Ctrl-C or a cancelled CI job (SIGINT,
 * SIGTERM, SIGHUP, to the whole process group) ends the process before any `finally` runs: the
 * login would stay in the temp directory. So such a signal removes the directory first (whenStopped),
 * and a push removes the directories that pushes ended by SIGKILL left.
 */
export async function withTemporaryAuthDirectory<T>(use: (directory: string) => Promise<T>): Promise<T> {
  await removeAbandonedAuthDirectories();
  const directory = await mkdtemp(join(tmpdir(), `${authDirectoryPrefix}${process.pid}-`));
  const stopWatching = whenStopped(() => rmSync(directory, { recursive: true, force: true }));
  try {
    return await use(directory);
  } finally {
    stopWatching();
    await rm(directory, { recursive: true, force: true });
  }
}

/**
 * Named by host and process: a directory whose process is gone was left by a push that SIGKILL,
 * the OOM killer or a power cut ended, which could remove nothing. The host keeps containers that
 * share a temp directory but not their process ids from taking each other's for abandoned.
 */
const authDirectoryPrefix = `release-kit-auth-${hostname().replace(/[^A-Za-z0-9.]/g, '_')}-`;

/** Removes the login directories of this host's processes that are gone, so a killed push's login does not stay for good. */
async function removeAbandonedAuthDirectories(): Promise<void> {
  const pidPattern = new RegExp(`^${authDirectoryPrefix.replace(/\./g, '\\.')}(\\d+)-`);
  for (const name of await readdir(tmpdir())) {
    const pid = Number(pidPattern.exec(name)?.[1]);
    // Another user's directory is not ours to remove (the temp directory is sticky): skipped.
    if (pid && !isRunning(pid)) await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A login as `docker login` stores it in a file, which both docker's config.json and the
 * containers auth.json read. An identity token needs the `auth` field too: containers/image
 * ignores an entry without one; `<token>` is the username docker's credential helpers give
 * identity tokens.
 */
export function authEntryOf(login: RegistryLogin): { auth: string; identitytoken?: string } {
  if (login.identityToken !== undefined) return { auth: Buffer.from('<token>:').toString('base64'), identitytoken: login.identityToken };
  return { auth: Buffer.from(`${login.username}:${login.password}`).toString('base64') };
}

export type AuthEntries = Record<string, unknown>;

/** Writes a containers auth file, readable by the owner only. */
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

/** The user's entries for every registry but `exceptHost`, whose login is the build's own; none when there is no such file. */
export async function authEntriesExcept(file: string | undefined, exceptHost: string): Promise<AuthEntries> {
  const text = file === undefined ? undefined : await readIfPresent(file);
  if (file === undefined || text === undefined) return {};
  const auths = parseAuths(text);
  if (!auths) throw new InvalidAuthFileError(file, 'is not JSON with an "auths" object');
  return Object.fromEntries(Object.entries(auths).filter(([host]) => host !== exceptHost));
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InvalidAuthFileError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function parseAuths(text: string): AuthEntries | undefined {
  try {
    const auths = (JSON.parse(text) as { auths?: unknown }).auths ?? {};
    return typeof auths === 'object' && auths !== null && !Array.isArray(auths) ? (auths as AuthEntries) : undefined;
  } catch {
    return undefined;
  }
}
