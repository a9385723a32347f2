import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { findFreePort } from './free-port';
import { spawnServer, stopProcess, waitUntilReady } from './server-process';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface TestRegistry {
  /** host:port, as it appears in an image reference. */
  host: string;
  /** http://host:port */
  url: string;
  storageDir: string;
  credentials?: RegistryCredentials;
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  /** Turns on htpasswd Basic auth with this user. */
  credentials?: RegistryCredentials;
  /** A ready-made `auth:` block of the registry's config.yml, e.g. token auth from startTokenServer. */
  authConfig?: string;
}

/**
 * Starts the CNCF distribution registry (Debian's `docker-registry`) on loopback, storage in a
 * temp dir, so tests talk to the real thing rather than a fake.
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'cm-registry-'));
  const port = await findFreePort();
  const host = `127.0.0.1:${port}`;
  const authBlock = options.authConfig ?? (options.credentials ? await writeHtpasswd(dir, options.credentials) : '');
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, registryConfig(join(dir, 'storage'), host, authBlock));
  const child = spawnServer('docker-registry', ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'], env: withoutRegistryOverrides(process.env) });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const url = `http://${host}/v2/`;
  await waitUntilReady(child, {
    name: `docker-registry on ${url}`,
    isReady: async () => [200, 401].includes((await fetch(url)).status),
    timeoutMs: 15_000,
    intervalMs: 50,
    output: () => stderr.join(''),
  });
  return {
    host,
    url: `http://${host}`,
    storageDir: join(dir, 'storage'),
    credentials: options.credentials,
    stop: async () => {
      await stopProcess(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function registryConfig(storageDir: string, host: string, authBlock: string): string {
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${host}`,
    authBlock,
  ].join('\n');
}

async function writeHtpasswd(dir: string, credentials: RegistryCredentials): Promise<string> {
  const path = join(dir, 'htpasswd');
  // -i reads the password from stdin so it never shows in a process list.
  const { stdout } = await execa('htpasswd', ['-niB', credentials.username], { input: credentials.password });
  await writeFile(path, `${stdout.trim()}\n`);
  return ['auth:', '  htpasswd:', '    realm: test-registry', `    path: ${path}`].join('\n');
}

/**
 * The environment less every REGISTRY_* variable: the registry reads each as an override of its
 * config.yml (REGISTRY_AUTH_FILE as `auth: file`), and podman and buildah users export
 * REGISTRY_AUTH_FILE, with which the registry refused its config and no test or demo could start.
 */
function withoutRegistryOverrides(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('REGISTRY_')));
}
