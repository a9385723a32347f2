import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { spawnServer, stopProcess, waitUntilReady } from './server-process';

/**
 * A private Docker daemon (Debian's docker.io): its own data, socket and containerd, vfs storage,
 * no bridge and no iptables, so it changes nothing on the machine, and docker.io mirrored to a
 * loopback registry, so nothing it pulls comes from the internet.
 */
export interface TestDockerDaemon {
  /** DOCKER_HOST for every docker client that should talk to this daemon. */
  env: { DOCKER_HOST: string };
  stop(): Promise<void>;
}

/**
 * PATH with Debian's docker.io client (20.10, /usr/bin) first, of the private daemon's own version:
 * it builds with BuildKit without the buildx plugin, which a newer client on PATH may need.
 */
export const debianDockerClientFirst = `/usr/bin:${process.env['PATH']}`;

export async function startDockerDaemon(dockerHubStandIn: string): Promise<TestDockerDaemon> {
  // Short: the daemon puts unix sockets under it, and their paths may not exceed 107 bytes.
  const directory = await mkdtemp(join(tmpdir(), 'cm-dockerd-'));
  const socket = join(directory, 'docker.sock');
  const daemon = spawnServer(
    'dockerd',
    [
      `--host=unix://${socket}`,
      `--data-root=${join(directory, 'data')}`,
      `--exec-root=${join(directory, 'exec')}`,
      `--pidfile=${join(directory, 'dockerd.pid')}`,
      '--storage-driver=vfs',
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
      `--registry-mirror=http://${dockerHubStandIn}`,
      `--insecure-registry=${dockerHubStandIn}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  daemon.stderr?.on('data', (chunk: Buffer) => (output = `${output}${chunk.toString()}`.slice(-4000)));
  const env = { DOCKER_HOST: `unix://${socket}` };
  const stop = async () => {
    await stopProcess(daemon);
    await unmountLeftDataRoot(join(directory, 'data'));
    await rm(directory, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(daemon, {
      name: `dockerd on ${socket}`,
      isReady: async () => (await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { env, reject: false })).exitCode === 0,
      timeoutMs: 30_000,
      intervalMs: 200,
      output: () => output,
    });
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return { env, stop };
}

/**
 * dockerd bind-mounts its data root onto itself and unmounts it when it exits cleanly; one that was
 * killed (SIGKILL, the OOM killer) leaves the mount, which rm cannot remove (EBUSY): the directory
 * and a mount stayed for good, and stop() failed.
 */
async function unmountLeftDataRoot(dataRoot: string): Promise<void> {
  if ((await execa('mountpoint', ['-q', dataRoot], { reject: false })).exitCode === 0) await execa('umount', [dataRoot]);
}
