/**
 * What Nx alone costs to run the task graph `nx release publish` runs here: a task per image and one
 * for the product, as the issue asks ("ordinary Nx tasks ... no loop over projects inside one
 * executor"), each doing nothing, so no release flow built that way can spend less. Four ways:
 * - executors in plain JavaScript, as Nx loads this workspace's plugin (tools/release-kit/load-compiled.js),
 *   each task in a process Nx forks through its executor runner;
 * - executors in TypeScript, which Nx loads through its transpiler, as it loaded the plugin before;
 * - `nx:run-commands` tasks whose command is `node -e 0`: Nx spawns the command itself, without its
 *   executor runner, the cheapest ordinary task that runs any JavaScript of ours;
 * - `nx:noop` tasks, which start no process at all: Nx's own start, graph and scheduling.
 * Run after the timed releases, in the same throwaway workspace; the executors and the targets they
 * add are never committed.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rehearsedServices, type ReleaseRehearsal } from '../../tools/demo/release-rehearsal';
import { measured, type Timing } from '../measure';

const executorDirectory = '.bench-noop';
const targets = { js: 'bench-noop-js', ts: 'bench-noop-ts', runCommands: 'bench-noop-run-commands', noProcess: 'bench-noop-no-process' } as const;

export type NxAlone = Record<keyof typeof targets, Timing>;

export async function measureNxAlone(rehearsal: ReleaseRehearsal, env: Record<string, string>): Promise<NxAlone> {
  const root = rehearsal.workspace.root;
  await writeNoopExecutors(root);
  for (const project of [...rehearsedServices.map((service) => join('apps', service)), 'docker']) await addNoopTargets(join(root, project, 'project.json'));
  const projects = [...rehearsedServices, 'docker'].join(',');
  const run = async (target: string) => {
    const { result, ms, cpuMs } = await measured(() => rehearsal.nx(['run-many', '-t', target, `--projects=${projects}`, '--skip-nx-cache'], { env }));
    if (result.exitCode !== 0) throw new Error(`nx run-many -t ${target} failed (exit ${result.exitCode}):\n${result.all}`);
    return { ms, cpuMs };
  };
  return { js: await run(targets.js), ts: await run(targets.ts), runCommands: await run(targets.runCommands), noProcess: await run(targets.noProcess) };
}

async function writeNoopExecutors(workspaceRoot: string): Promise<void> {
  const directory = join(workspaceRoot, executorDirectory);
  const executor = (implementation: string) => ({ implementation, schema: './schema.json', description: 'Does nothing.' });
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'package.json'), JSON.stringify({ name: 'bench-noop', version: '0.0.0', executors: './executors.json' }));
  await writeFile(join(directory, 'executors.json'), JSON.stringify({ executors: { js: executor('./noop.js'), ts: executor('./noop-ts.ts') } }));
  await writeFile(join(directory, 'schema.json'), JSON.stringify({ type: 'object', properties: {} }));
  await writeFile(join(directory, 'noop.js'), 'module.exports = async function noop() { return { success: true }; };\n');
  await writeFile(join(directory, 'noop-ts.ts'), 'export default async function noop(): Promise<{ success: boolean }> {\n  return { success: true };\n}\n');
}

async function addNoopTargets(projectJson: string): Promise<void> {
  const project = JSON.parse(await readFile(projectJson, 'utf8')) as { targets?: Record<string, unknown> };
  project.targets = {
    ...project.targets,
    [targets.js]: { executor: `./${executorDirectory}:js` },
    [targets.ts]: { executor: `./${executorDirectory}:ts` },
    [targets.runCommands]: { executor: 'nx:run-commands', options: { command: 'node -e 0' } },
    [targets.noProcess]: { executor: 'nx:noop' },
  };
  await writeFile(projectJson, JSON.stringify(project, null, 2));
}
