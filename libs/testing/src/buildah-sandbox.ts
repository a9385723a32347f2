import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

/**
 * A private buildah: its own image storage (vfs, chroot isolation: no daemon, no root features
 * needed) and a registries.conf that sends docker.io to a loopback registry, as an air-gapped site
 * does. Nothing it does can reach the internet.
 */
export interface BuildahSandbox {
  directory: string;
  /** Environment for buildah and anything that runs it (the executor, nx). */
  env: Record<string, string>;
  /** What `buildah()` runs: buildah, or podman where buildah is not installed (its build, push and manifest commands are buildah's). */
  engine: SandboxEngine;
  buildah(args: readonly string[]): Promise<string>;
  remove(): Promise<void>;
}

export type SandboxEngine = 'buildah' | 'podman';

export class NoSandboxEngineError extends Error {
  constructor() {
    super('neither buildah nor podman is installed, and the test images are built with one of them: run bash tools/scripts/install-prerequisites.sh (as root or with sudo)');
    this.name = 'NoSandboxEngineError';
  }
}

/** A build or push in the sandbox that failed: one line, the engine's own reason, and what to do when it is the usual one. */
export class SandboxCommandError extends Error {
  constructor(engine: SandboxEngine, args: readonly string[], stderr: string) {
    super(`${engine} ${args[0]} failed: ${reasonOf(stderr)}`);
    this.name = 'SandboxCommandError';
  }
}

/**
 * A build as a user other than root runs in a user namespace, which needs subordinate IDs: without
 * a range in /etc/subuid the engine prints warnings, then fails at the first RUN with a line that
 * names neither (`error setting supplemental groups list`).
 */
function reasonOf(stderr: string): string {
  const user = userInfo().username;
  if (/no subuid ranges found/.test(stderr)) {
    return `building as ${user} (not root) needs subordinate user and group IDs, and /etc/subuid has none for ${user}: add them as root with usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}, or run as root`;
  }
  const lines = stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.at(-1) ?? 'no output';
}

/**
 * buildah, else podman: the stand-in base images need only build and push, which podman runs as
 * buildah does. With podman alone the demo stopped at its first step with "buildah: command not
 * found", though the release builds themselves pick whichever engine is installed.
 */
async function findSandboxEngine(): Promise<SandboxEngine> {
  for (const engine of ['buildah', 'podman'] as const) {
    if ((await execa(engine, ['--version'], { reject: false })).exitCode === 0) return engine;
  }
  throw new NoSandboxEngineError();
}

export async function createBuildahSandbox(dockerHubStandIn: string): Promise<BuildahSandbox> {
  const engine = await findSandboxEngine();
  const directory = await mkdtemp(join(tmpdir(), 'cm-buildah-'));
  const storageConf = join(directory, 'storage.conf');
  const registriesConf = join(directory, 'registries.conf');
  await writeFile(
    storageConf,
    ['[storage]', 'driver = "vfs"', `graphroot = "${join(directory, 'root')}"`, `runroot = "${join(directory, 'run')}"`, ''].join('\n'),
  );
  await writeFile(
    registriesConf,
    [
      'unqualified-search-registries = ["docker.io"]',
      '[[registry]]',
      'prefix = "docker.io"',
      `location = "${dockerHubStandIn}"`,
      'insecure = true',
      '[[registry]]',
      `location = "${dockerHubStandIn}"`,
      'insecure = true',
      '',
    ].join('\n'),
  );
  await writeFile(join(directory, 'auth.json'), '{}\n');
  const env = {
    CONTAINERS_STORAGE_CONF: storageConf,
    CONTAINERS_REGISTRIES_CONF: registriesConf,
    STORAGE_DRIVER: 'vfs',
    BUILDAH_ISOLATION: 'chroot',
    REGISTRY_AUTH_FILE: join(directory, 'auth.json'),
  };
  const buildah = async (args: readonly string[]) => {
    const result = await execa(engine, args, { env, reject: false });
    if (result.exitCode !== 0) throw new SandboxCommandError(engine, args, result.stderr);
    return result.stdout;
  };
  return { directory, env, engine, buildah, remove: () => rm(directory, { recursive: true, force: true, maxRetries: 5 }) };
}

/** A stand-in for a public base image: busybox, and with `node` the host's own Node.js and its libraries. */
export interface StandInBaseImage {
  name: string;
  node: boolean;
}

export const productBaseImages: readonly StandInBaseImage[] = [
  { name: 'library/node:20-bookworm-slim', node: true },
  { name: 'library/nginx:1.27-alpine', node: false },
];

/**
 * Base images cannot be pulled here: these stand in for node and nginx under their real names,
 * pushed to the registry that plays docker.io. The node one runs Node.js for real, and weighs
 * what a slim node image weighs.
 */
export async function pushStandInBaseImages(
  sandbox: BuildahSandbox,
  dockerHubStandIn: string,
  images: readonly StandInBaseImage[] = productBaseImages,
): Promise<void> {
  for (const image of images) {
    const context = join(sandbox.directory, `base-${image.node ? 'node' : 'busybox'}`);
    const local = `localhost/stand-in-${image.node ? 'node' : 'busybox'}:latest`;
    if (!existsSync(context)) {
      await prepareBaseContext(context, image.node);
      await sandbox.buildah(['build', '--timestamp', '0', '--file', join(context, 'Containerfile'), '--tag', local, context]);
    }
    await sandbox.buildah(['push', '--tls-verify=false', local, `docker://${dockerHubStandIn}/${image.name}`]);
  }
}

async function prepareBaseContext(context: string, withNode: boolean): Promise<void> {
  const node = await realpath(process.execPath);
  const files = ['/bin/busybox', ...(withNode ? await nodeRuntimeFiles(node) : [])];
  for (const file of files) {
    await mkdir(join(context, 'rootfs', dirname(file)), { recursive: true });
    await copyFile(file, join(context, 'rootfs', file));
  }
  // The official node image runs as the user node (uid 1000); Dockerfiles say USER node.
  await mkdir(join(context, 'rootfs/etc'), { recursive: true });
  await writeFile(join(context, 'rootfs/etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n');
  await writeFile(join(context, 'rootfs/etc/group'), 'root:x:0:\nnode:x:1000:\n');
  const onPath = ['/usr/bin/node', '/usr/local/bin/node'].includes(node);
  const nodeOnPath = withNode && !onPath ? `RUN ["/bin/sh", "-c", "mkdir -p /usr/local/bin && ln -s ${node} /usr/local/bin/node"]\n` : '';
  await writeFile(
    join(context, 'Containerfile'),
    `FROM scratch\nCOPY rootfs/ /\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n${nodeOnPath}CMD ["/bin/sh"]\n`,
  );
}

/** The node binary and every shared library it loads, at their own paths. */
async function nodeRuntimeFiles(node: string): Promise<string[]> {
  const { stdout } = await execa('ldd', [node]);
  const libraries = [...stdout.matchAll(/(\/\S+\.so[^\s]*)/g)].map((match) => match[1]);
  return [node, ...new Set(libraries)];
}
