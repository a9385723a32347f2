/**
 * What Nx alone costs to run the task graph `nx release publish` runs here: a task per image and one
 * for the product, each in its own process, as the issue asks ("ordinary Nx tasks ... no loop over
 * projects inside one executor"). Each task's executor does nothing and is plain JavaScript, so
 * nothing of ours is loaded or transpiled: no release flow built that way can spend less, and the
 * floor a release pays cannot fall below it. Run after the timed releases, in the same throwaway
 * workspace; the executor and the targets it adds are never committed.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rehearsedServices, type ReleaseRehearsal } from '../../tools/demo/release-rehearsal';
import { measured } from '../measure';

const target = 'bench-noop';
const executorDirectory = '.bench-noop';

export async function nxAloneCpuMs(rehearsal: ReleaseRehearsal, env: Record<string, string>): Promise<{ ms: number; cpuMs: number }> {
  const projects = [...rehearsedServices.map((service) => join('apps', service)), 'docker'];
  await writeNoopExecutor(rehearsal.workspace.root);
  for (const project of projects) await addNoopTarget(join(rehearsal.workspace.root, project, 'project.json'));
  const names = [...rehearsedServices, 'docker'];
  const { result, ms, cpuMs } = await measured(() =>
    rehearsal.nx(['run-many', '-t', target, `--projects=${names.join(',')}`, '--skip-nx-cache'], { env }),
  );
  if (result.exitCode !== 0) throw new Error(`nx run-many -t ${target} failed (exit ${result.exitCode}):\n${result.all}`);
  return { ms, cpuMs };
}

async function writeNoopExecutor(workspaceRoot: string): Promise<void> {
  const directory = join(workspaceRoot, executorDirectory);
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'package.json'), JSON.stringify({ name: 'bench-noop', version: '0.0.0', executors: './executors.json' }));
  await writeFile(join(directory, 'executors.json'), JSON.stringify({ executors: { noop: { implementation: './noop.js', schema: './schema.json', description: 'Does nothing.' } } }));
  await writeFile(join(directory, 'schema.json'), JSON.stringify({ type: 'object', properties: {} }));
  await writeFile(join(directory, 'noop.js'), 'module.exports = async function noop() { return { success: true }; };\n');
}

async function addNoopTarget(projectJson: string): Promise<void> {
  const project = JSON.parse(await readFile(projectJson, 'utf8')) as { targets?: Record<string, unknown> };
  project.targets = { ...project.targets, [target]: { executor: `./${executorDirectory}:noop` } };
  await writeFile(projectJson, JSON.stringify(project, null, 2));
}
