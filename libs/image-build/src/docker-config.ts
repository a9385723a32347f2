import { existsSync } from 'node:fs';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RegistryLogin } from './container-engine';
import { InvalidDockerConfigError } from './errors';
import { authEntryOf, type AuthEntries } from './temporary-auth';

/** What a push keeps of the user's docker config: the logins (in the file, per-registry credential helpers, one store) and the daemon it talks to. */
interface UserDockerConfig {
  auths?: AuthEntries;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  currentContext?: string;
}

/**
 * What docker reads from beside its config.json: the contexts (the daemon the user chose, e.g.
 * Docker Desktop's, with its TLS files) and the plugins installed for this user (buildx in
 * ~/.docker/cli-plugins). A private config without them would build and push on another daemon,
 * or on none, and without buildx.
 */
const configDirectoryEntries = ['contexts', 'cli-plugins'];

/**
 * A push's private docker config, readable by the owner only. The push registry's login is the
 * build's own, or none, written in the file: an empty credential helper for that registry makes
 * docker read it from the file even where the user's config names a credential store, and
 * `docker login` is never run (it would save the password in the platform's default store). Every
 * other registry keeps the user's logins, wherever they are kept, for the build's base images.
 */
export async function writePrivateDockerConfig(file: string, pushHost: string, login: RegistryLogin | undefined, userConfigFile: string): Promise<void> {
  const user = await readUserDockerConfig(userConfigFile);
  const auths = Object.fromEntries(Object.entries(user.auths ?? {}).filter(([key]) => hostOfAuthKey(key) !== pushHost));
  if (login) auths[pushHost] = authEntryOf(login);
  const credHelpers = { ...Object.fromEntries(Object.entries(user.credHelpers ?? {}).filter(([key]) => key !== pushHost)), [pushHost]: '' };
  const config = { auths, credHelpers, ...(user.credsStore ? { credsStore: user.credsStore } : {}), ...(user.currentContext ? { currentContext: user.currentContext } : {}) };
  await writeFile(file, `${JSON.stringify(config)}\n`, { mode: 0o600 });
  for (const entry of configDirectoryEntries) {
    const userEntry = join(dirname(userConfigFile), entry);
    if (existsSync(userEntry)) await symlink(userEntry, join(dirname(file), entry));
  }
}

async function readUserDockerConfig(file: string): Promise<UserDockerConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new InvalidDockerConfigError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const { auths, credHelpers, credsStore, currentContext } = JSON.parse(text) as UserDockerConfig;
    return { auths, credHelpers, credsStore, currentContext };
  } catch {
    throw new InvalidDockerConfigError(file, 'is not JSON');
  }
}

/** `https://host/v1/` and `host` both name host, as docker matches them. */
function hostOfAuthKey(key: string): string {
  return key.replace(/^https?:\/\//, '').split('/')[0];
}
