import { join } from 'node:path';
import { execa } from 'execa';

/** nx as CI runs it: no daemon (none left running after a test), no TUI, no Nx Cloud. */
export const nxTestEnv = { NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', CI: 'true' } as const;

/**
 * Runs the nx installed in `root` (a throwaway workspace, or this one) in `root`, as a user types
 * `npx nx …` there, with `env` over nxTestEnv. Never throws on a failed command: the caller reads
 * `exitCode`; `all` holds stdout and stderr as they came.
 */
export function runNx(root: string, args: readonly string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [join(root, 'node_modules/nx/dist/bin/nx.js'), ...args], { cwd: root, reject: false, all: true, stdin: 'ignore', env: { ...nxTestEnv, ...env } });
}

/** Who a test's `nx release` commits and tags as: git refuses to commit without a name. */
export const releaseManagerIdentity = {
  GIT_AUTHOR_NAME: 'Release Manager',
  GIT_AUTHOR_EMAIL: 'release@example.invalid',
  GIT_COMMITTER_NAME: 'Release Manager',
  GIT_COMMITTER_EMAIL: 'release@example.invalid',
} as const;

/** What an nx command that prints JSON (`show projects --json`) printed; a failed one throws with all it said. */
export async function nxJson<T>(root: string, args: readonly string[], env: Record<string, string> = {}): Promise<T> {
  const run = await runNx(root, args, env);
  if (run.exitCode !== 0) throw new Error(`nx ${args.join(' ')} failed (exit ${run.exitCode}):\n${run.all}`);
  return JSON.parse(run.stdout) as T;
}
