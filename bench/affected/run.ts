/**
 * bench/affected: what `nx affected -t docker-push` saves. In one run, against the same registry
 * and engine: a push of all four services (what build-and-push.sh does on every run), then, after a
 * change to one service, the affected push. An untimed first push pulls the base images, so no
 * timed run pays for that; then three rounds, each a change to all four services and the full push,
 * then a change to one and the affected push. Prints the images built and the times of each round
 * and, on the last line, the median of the rounds' wall-time ratios affected/full.
 */
import { appendFile, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createThrowawayWorkspace, startImageTestbed, type ThrowawayWorkspace } from '@changemaker/testing';

const workspaceRoot = join(__dirname, '../..');
const rounds = 3;
const services = ['api', 'media-api', 'admin', 'nginx'];
/** A file of each service whose change is a change of its image. */
const serviceSources: Record<string, string> = {
  api: 'apps/api/src/main.ts',
  'media-api': 'apps/media-api/src/main.ts',
  admin: 'apps/admin/src/index.html',
  nginx: 'apps/nginx/Dockerfile',
};

async function main(): Promise<void> {
  const testbed = await startImageTestbed();
  const workspace = await createThrowawayWorkspace(workspaceRoot);
  try {
    const env = { ...testbed.nxEnv, CI: 'true' };
    const push = async (...args: string[]) => {
      await rm(join(workspace.root, 'dist/images'), { recursive: true, force: true });
      const ms = await timed(() => execa('node', [join(workspace.root, 'node_modules/nx/dist/bin/nx.js'), ...args, '-t', 'docker-push'], { cwd: workspace.root, env }));
      return { ms, built: await builtImages(workspace) };
    };

    const warmUp = await push('run-many');
    console.log(`untimed first push (pulls the base images): ${warmUp.built.join(', ')} in ${seconds(warmUp.ms)}`);
    const ratios: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      await changeServices(workspace, services, `full${round}`);
      const full = await push('run-many');
      await changeServices(workspace, ['media-api'], `one${round}`);
      const affected = await push('affected', '--base=HEAD~1', '--head=HEAD');
      if (full.built.length !== services.length || affected.built.length !== 1) {
        throw new Error(`round ${round} built ${full.built.join(', ')} in full and ${affected.built.join(', ')} affected`);
      }
      ratios.push(affected.ms / full.ms);
      console.log(`round ${round}: full push ${full.built.length} images in ${seconds(full.ms)}, affected push ${affected.built.join(', ')} in ${seconds(affected.ms)}: ratio ${ratios.at(-1)?.toFixed(2)}`);
    }
    // The full push runs its images side by side, so on few cores it gains less from doing less.
    const parallel = JSON.parse(await readFile(join(workspace.root, 'nx.json'), 'utf8')).parallel ?? 3;
    console.log(`cores: ${availableParallelism()}; Nx runs up to ${parallel} tasks at once`);
    console.log(`images built: 1 of ${services.length}; affected/full wall-time ratio: ${median(ratios).toFixed(2)} (median of ${rounds} rounds)`);
  } finally {
    await workspace.remove();
    await testbed.stop();
  }
}

async function changeServices(workspace: ThrowawayWorkspace, names: readonly string[], change: string): Promise<void> {
  for (const name of names) {
    const file = serviceSources[name];
    await appendFile(join(workspace.root, file), file.endsWith('.html') ? `\n<!-- bench ${change} -->\n` : file.endsWith('Dockerfile') ? `\n# bench ${change}\n` : `\nexport const bench_${change} = 1;\n`);
  }
  await workspace.commitAll(`bench: change ${names.join(', ')}`);
}

/** The projects whose image this push built, with the engine that built it. */
async function builtImages(workspace: ThrowawayWorkspace): Promise<string[]> {
  const directory = join(workspace.root, 'dist/images');
  const results = await Promise.all((await readdir(directory)).map(async (file) => JSON.parse(await readFile(join(directory, file), 'utf8'))));
  return results.filter((result) => result.built).map((result) => `${result.project} (${result.engine})`).sort();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

main().catch((error: Error) => {
  console.error(`bench/affected failed: ${error.message}`);
  process.exit(1);
});
