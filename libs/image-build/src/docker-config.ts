import { readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { RegistryLogin } from './container-engine';
import { InvalidDockerConfigError } from './errors';
import { authEntryOf, type AuthEntries } from './temporary-auth';

/** The logins a docker config holds: in the file, in per-registry credential helpers, or in one store. */
interface DockerConfigLogins {
  auths?: AuthEntries;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Where docker's CLI reads its config: `DOCKER_CONFIG`, else ~/.docker. */
export function userDockerConfigFile(env: NodeJS.ProcessEnv): string {
  return join(env['DOCKER_CONFIG'] || join(homedir(), '.docker'), 'config.json');
}

/**
 * A push's private docker config, readable by the owner only. The push registry's login is the
 * build's own, or none, written in the file: an empty credential helper for that registry makes
 * docker read it from the file even where the user's config names a credential store, and
 * `docker login` is never run (it would save the password in the platform's default store). Every
 * other registry keeps the user's logins, wherever they are kept, for the build's base images.
 */
export async function writePrivateDockerConfig(file: string, pushHost: string, login: RegistryLogin | undefined, userConfigFile: string): Promise<void> {
  const user = await readDockerConfigLogins(userConfigFile);
  const auths = Object.fromEntries(Object.entries(user.auths ?? {}).filter(([key]) => hostOfAuthKey(key) !== pushHost));
  if (login) auths[pushHost] = authEntryOf(login);
  const credHelpers = { ...Object.fromEntries(Object.entries(user.credHelpers ?? {}).filter(([key]) => key !== pushHost)), [pushHost]: '' };
  const config = { auths, credHelpers, ...(user.credsStore ? { credsStore: user.credsStore } : {}) };
  await writeFile(file, `${JSON.stringify(config)}\n`, { mode: 0o600 });
}

async function readDockerConfigLogins(file: string): Promise<DockerConfigLogins> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new InvalidDockerConfigError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const { auths, credHelpers, credsStore } = JSON.parse(text) as DockerConfigLogins;
    return { auths, credHelpers, credsStore };
  } catch {
    throw new InvalidDockerConfigError(file, 'is not JSON');
  }
}

/** `https://host/v1/` and `host` both name host, as docker matches them. */
function hostOfAuthKey(key: string): string {
  return key.replace(/^https?:\/\//, '').split('/')[0];
}
