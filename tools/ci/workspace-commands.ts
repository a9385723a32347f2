import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** What a workflow's commands may name in this workspace: npm scripts, Nx targets, `nx release` flags. */
export interface WorkspaceCommands {
  npmScripts: ReadonlySet<string>;
  /** Target name → the projects that have it. */
  projectsByTarget: ReadonlyMap<string, readonly string[]>;
  /** Long and short options of `nx release`, without dashes. */
  nxReleaseOptions: ReadonlySet<string>;
}

/** Asks this workspace's own Nx (the projects with each target; `nx release --help`) and package.json. */
export async function readWorkspaceCommands(workspaceRoot: string, targets: readonly string[]): Promise<WorkspaceCommands> {
  const nx = (...args: string[]) =>
    execa('node', [join(workspaceRoot, 'node_modules/nx/dist/bin/nx.js'), ...args], {
      cwd: workspaceRoot,
      env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
      all: true,
    });
  const packageJson = JSON.parse(await readFile(join(workspaceRoot, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const projectsByTarget = new Map<string, string[]>();
  for (const target of targets) {
    projectsByTarget.set(target, JSON.parse((await nx('show', 'projects', '--with-target', target, '--json')).stdout) as string[]);
  }
  // yargs prints help on stderr.
  const releaseHelp = String((await nx('release', '--help')).all);
  const nxReleaseOptions = new Set([...releaseHelp.matchAll(/(?:^|[\s,])--?([a-zA-Z][\w-]*)/g)].map((match) => match[1]));
  return { npmScripts: new Set(Object.keys(packageJson.scripts ?? {})), projectsByTarget, nxReleaseOptions };
}
