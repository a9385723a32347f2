import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

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

const readyTimeoutMs = 30_000;

export async function startDockerDaemon(dockerHubStandIn: string): Promise<TestDockerDaemon> {
  // Short: the daemon puts unix sockets under it, and their paths may not exceed 107 bytes.
  const directory = await mkdtemp(join(tmpdir(), 'cm-dockerd-'));
  const socket = join(directory, 'docker.sock');
  const daemon = spawn(
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
  let log = '';
  daemon.stderr.on('data', (chunk: Buffer) => (log = `${log}${chunk.toString()}`.slice(-4000)));
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  const env = { DOCKER_HOST: `unix://${socket}` };
  const stop = async () => {
    daemon.kill('SIGTERM');
    await exited;
    await rm(directory, { recursive: true, force: true });
  };
  try {
    await waitUntilAnswering(env, () => daemon.exitCode !== null);
  } catch (error) {
    await stop();
    throw new Error(`dockerd did not start: ${(error as Error).message}\n${log}`);
  }
  return { env, stop };
}

async function waitUntilAnswering(env: TestDockerDaemon['env'], hasExited: () => boolean): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error('it exited');
    const info = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { env, reject: false });
    if (info.exitCode === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no answer within ${readyTimeoutMs / 1000} s`);
}
