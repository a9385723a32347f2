import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  buildah(args: readonly string[]): Promise<string>;
  remove(): Promise<void>;
}

export async function createBuildahSandbox(dockerHubStandIn: string): Promise<BuildahSandbox> {
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
  const buildah = async (args: readonly string[]) => (await execa('buildah', args, { env })).stdout;
  return { directory, env, buildah, remove: () => rm(directory, { recursive: true, force: true }) };
}

/**
 * Base images cannot be pulled here: these stand in for node and nginx under their real names,
 * pushed to the registry that plays docker.io. They hold busybox, enough for COPY-only stages.
 */
export async function pushStandInBaseImages(
  sandbox: BuildahSandbox,
  dockerHubStandIn: string,
  names: readonly string[] = ['library/node:20-bookworm-slim', 'library/nginx:1.27-alpine'],
): Promise<void> {
  const context = join(sandbox.directory, 'base-context');
  await mkdir(context, { recursive: true });
  await copyFile('/bin/busybox', join(context, 'busybox'));
  await writeFile(join(context, 'Containerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "sh"]\n');
  const local = 'localhost/stand-in-base:latest';
  await sandbox.buildah(['build', '--timestamp', '0', '--file', join(context, 'Containerfile'), '--tag', local, context]);
  for (const name of names) {
    await sandbox.buildah(['push', '--tls-verify=false', local, `docker://${dockerHubStandIn}/${name}`]);
  }
}
