/** What the image benches share: a change to chosen services, and a timed `nx … -t docker-push`. */
import { appendFile, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { createThrowawayWorkspace, startImageTestbed, type ThrowawayWorkspace } from '@changemaker/testing';
import { finishedChildrenCpuMs, seconds, timed } from './measure';

export const services = ['api', 'media-api', 'admin', 'nginx'];

/** A file of each service whose change is a change of its image. */
const serviceSources: Record<string, string> = {
  api: 'apps/api/src/main.ts',
  'media-api': 'apps/media-api/src/main.ts',
  admin: 'apps/admin/src/index.html',
  nginx: 'apps/nginx/Dockerfile',
};

export interface ImagePush {
  ms: number;
  cpuMs: number;
  /** The projects whose image the push built, with the engine that built it. */
  built: string[];
}

export interface PushedWorkspace {
  workspace: ThrowawayWorkspace;
  /** `nx <args> -t docker-push` in the workspace, timed. */
  push(...args: string[]): Promise<ImagePush>;
}

/**
 * A loopback registry, a private engine and a clone of this workspace whose images are pushed once
 * before `run`, untimed: that push pulls the base images, so no timed one pays for it.
 */
export async function withPushedWorkspace(workspaceRoot: string, run: (pushed: PushedWorkspace) => Promise<void>): Promise<void> {
  const testbed = await startImageTestbed();
  const workspace = await createThrowawayWorkspace(workspaceRoot);
  try {
    const env = { ...testbed.nxEnv, CI: 'true' };
    const push = (...args: string[]) => pushImages(workspace, env, args);
    const warmUp = await push('run-many');
    console.log(`untimed first push (pulls the base images): ${warmUp.built.join(', ')} in ${seconds(warmUp.ms)}`);
    await run({ workspace, push });
  } finally {
    await workspace.remove();
    await testbed.stop();
  }
}

export async function changeServices(workspace: ThrowawayWorkspace, names: readonly string[], change: string): Promise<void> {
  for (const name of names) {
    const file = serviceSources[name];
    await appendFile(join(workspace.root, file), file.endsWith('.html') ? `\n<!-- bench ${change} -->\n` : file.endsWith('Dockerfile') ? `\n# bench ${change}\n` : `\nexport const bench_${change} = 1;\n`);
  }
  await workspace.commitAll(`bench: change ${names.join(', ')}`);
}

async function pushImages(workspace: ThrowawayWorkspace, env: Record<string, string>, args: readonly string[]): Promise<ImagePush> {
  await rm(join(workspace.root, 'dist/images'), { recursive: true, force: true });
  const cpuBefore = await finishedChildrenCpuMs();
  const ms = await timed(() => execa('node', [join(workspace.root, 'node_modules/nx/dist/bin/nx.js'), ...args, '-t', 'docker-push'], { cwd: workspace.root, env }));
  const cpuMs = (await finishedChildrenCpuMs()) - cpuBefore;
  return { ms, cpuMs, built: await builtImages(workspace) };
}

async function builtImages(workspace: ThrowawayWorkspace): Promise<string[]> {
  const directory = join(workspace.root, 'dist/images');
  const results = await Promise.all((await readdir(directory)).map(async (file) => JSON.parse(await readFile(join(directory, file), 'utf8'))));
  return results.filter((result) => result.built).map((result) => `${result.project} (${result.engine})`).sort();
}
