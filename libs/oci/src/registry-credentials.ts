import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { registryFrom } from '@changemaker/release-contract';
import { RegistryAuthError } from './oci-errors';

/** A username and password (or an access token used as one), as `docker login -u` stores them. */
export interface PasswordCredentials {
  username: string;
  password: string;
  identityToken?: undefined;
}

/**
 * The OAuth2 refresh token `docker login` stores instead of a password when the registry's token
 * service offers one. There is no password: it is only ever exchanged at the token service.
 */
export interface IdentityTokenCredentials {
  identityToken: string;
}

/** Tell the two apart by `identityToken !== undefined`. */
export type RegistryCredentials = PasswordCredentials | IdentityTokenCredentials;

/** Answers the credentials for a registry host (host[:port]), or undefined for anonymous access. */
export type CredentialResolver = (registry: string) => Promise<RegistryCredentials | undefined>;

export interface ResolveCredentialsOptions {
  env?: NodeJS.ProcessEnv;
  /** Defaults to $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
  dockerConfigPath?: string;
}

interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfig {
  auths?: Record<string, DockerAuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/**
 * Finds credentials the way a user expects after `docker login`: GITEA_REGISTRY_USER and
 * GITEA_REGISTRY_PASSWORD for the GITEA_REGISTRY host first (CI sets those), then
 * ~/.docker/config.json: a per-host credHelper, an `auths` entry, then the default credsStore.
 */
export async function resolveRegistryCredentials(
  registry: string,
  options: ResolveCredentialsOptions = {},
): Promise<RegistryCredentials | undefined> {
  const env = options.env ?? process.env;
  const fromEnv = giteaCredentialsFromEnv(registry, env);
  if (fromEnv) return fromEnv;
  const config = await readDockerConfig(options.dockerConfigPath ?? dockerConfigFile(env));
  if (!config) return undefined;
  const keys = configKeysFor(registry);
  const helper = keys.map((key) => config.credHelpers?.[key]).find(Boolean);
  if (helper) return runCredentialHelper(helper, registry, env);
  const entry = keys.map((key) => config.auths?.[key]).find(Boolean);
  if (entry) return decodeAuthEntry(registry, entry);
  if (config.credsStore) return runCredentialHelper(config.credsStore, registry, env);
  return undefined;
}

/** A resolver bound to one environment, for RegistryClient. */
export function dockerCredentialResolver(options: ResolveCredentialsOptions = {}): CredentialResolver {
  return (registry) => resolveRegistryCredentials(registry, options);
}

export function giteaRegistryHost(env: NodeJS.ProcessEnv): string {
  return registryFrom(env).split('/')[0];
}

function giteaCredentialsFromEnv(registry: string, env: NodeJS.ProcessEnv): RegistryCredentials | undefined {
  const username = env['GITEA_REGISTRY_USER'];
  const password = env['GITEA_REGISTRY_PASSWORD'];
  if (!username || !password || registry !== giteaRegistryHost(env)) return undefined;
  return { username, password };
}

/** Where docker's CLI reads its config: `DOCKER_CONFIG` (when set and not empty, as docker reads it), else ~/.docker. */
export function dockerConfigFile(env: NodeJS.ProcessEnv): string {
  return join(env['DOCKER_CONFIG'] || join(homedir(), '.docker'), 'config.json');
}

async function readDockerConfig(path: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as DockerConfig;
  } catch {
    throw new RegistryAuthError('(docker config)', `${path} is not valid JSON; fix or remove it`);
  }
}

/** docker login stores Docker Hub under its v1 URL and other hosts sometimes with a scheme. */
function configKeysFor(registry: string): string[] {
  const keys = [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`];
  return registry === 'docker.io' ? ['https://index.docker.io/v1/', 'index.docker.io', ...keys] : keys;
}

/** An identity token wins over `auth`, which then only names the user, as in docker. */
function decodeAuthEntry(registry: string, entry: DockerAuthEntry): RegistryCredentials | undefined {
  if (entry.identitytoken) return { identityToken: entry.identitytoken };
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  if (!entry.auth) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) throw new RegistryAuthError(registry, 'the auths entry in the docker config is not base64 of user:password; run docker login again');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function runCredentialHelper(helper: string, registry: string, env: NodeJS.ProcessEnv): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.on('error', () => reject(new RegistryAuthError(registry, `credential helper ${program} could not be run; install it or remove it from the docker config`)));
    child.on('close', (code) => {
      // Helpers exit non-zero with "credentials not found" for hosts they do not know.
      if (code !== 0) return resolve(undefined);
      try {
        resolve(credentialsFromHelperAnswer(JSON.parse(Buffer.concat(stdout).toString('utf8')) as CredentialHelperAnswer));
      } catch {
        reject(new RegistryAuthError(registry, `credential helper ${program} answered something that is not JSON`));
      }
    });
    child.stdin.end(registry);
  });
}

interface CredentialHelperAnswer {
  Username?: string;
  Secret?: string;
}

/** Docker's credential helper protocol marks an identity token with the user name "<token>". */
const identityTokenUsername = '<token>';

function credentialsFromHelperAnswer(answer: CredentialHelperAnswer): RegistryCredentials | undefined {
  if (!answer.Username || !answer.Secret) return undefined;
  if (answer.Username === identityTokenUsername) return { identityToken: answer.Secret };
  return { username: answer.Username, password: answer.Secret };
}
