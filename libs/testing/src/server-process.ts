import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface ReadinessCheck {
  /** Names the server in errors, e.g. "docker-registry on http://127.0.0.1:5000/v2/". */
  name: string;
  /** Answers true once the server serves requests; may throw while it does not yet. */
  isReady: () => Promise<boolean>;
  timeoutMs: number;
  intervalMs: number;
  /** The end of what the server printed, to explain a failed start. */
  output: () => string;
}

/** Waits for a test server started as a child process; one that exits or never answers is stopped and reported. */
export async function waitUntilReady(child: ChildProcess, check: ReadinessCheck): Promise<void> {
  const deadline = Date.now() + check.timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${check.name} exited with ${child.exitCode}: ${check.output().trim()}`);
    if (await check.isReady().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, check.intervalMs));
  }
  await stopProcess(child);
  throw new Error(`${check.name} did not answer within ${check.timeoutMs / 1000} s: ${check.output().trim()}`);
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * Starts a test server that dies with the process that started it (setpriv --pdeathsig, which then
 * execs the server itself): a test run killed outright (a jest worker's SIGKILL, `timeout`'s SIGTERM
 * to jest) cannot run its stop(), and the registry or dockerd it started kept running, orphaned.
 */
export function spawnServer(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  return spawn('setpriv', ['--pdeathsig', 'SIGTERM', '--', command, ...args], options);
}
