/**
 * bench/affected: what `nx affected -t docker-push` saves. In one run, against the same registry
 * and engine: a push of all four services (what build-and-push.sh does on every run), then, after a
 * change to one service, the affected push. Prints the images built by each and, on the last line,
 * the wall-time ratio affected/full.
 */
import { appendFile, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createThrowawayWorkspace, startImageTestbed } from '@changemaker/testing';

const workspaceRoot = join(__dirname, '../..');

async function main(): Promise<void> {
  const testbed = await startImageTestbed();
  const workspace = await createThrowawayWorkspace(workspaceRoot);
  try {
    const env = { ...testbed.nxEnv, CI: 'true' };
    const nx = (...args: string[]) => timed(() => execa('node', [join(workspace.root, 'node_modules/nx/dist/bin/nx.js'), ...args], { cwd: workspace.root, env }));
    const builtImages = async () => {
      const directory = join(workspace.root, 'dist/images');
      const results = await Promise.all((await readdir(directory)).map(async (file) => JSON.parse(await readFile(join(directory, file), 'utf8'))));
      return results.filter((result) => result.built).map((result) => `${result.project} (${result.engine})`).sort();
    };

    const full = await nx('run-many', '-t', 'docker-push');
    const fullBuilt = await builtImages();
    console.log(`full push:     ${fullBuilt.length} images built (${fullBuilt.join(', ')}) in ${seconds(full)}`);

    await appendFile(join(workspace.root, 'apps/media-api/src/main.ts'), '\nexport const benchChange = 1;\n');
    await workspace.commitAll('bench: change media-api');
    await rm(join(workspace.root, 'dist/images'), { recursive: true, force: true });
    const affected = await nx('affected', '-t', 'docker-push', '--base=HEAD~1', '--head=HEAD');
    const affectedBuilt = await builtImages();
    console.log(`affected push: ${affectedBuilt.length} image built (${affectedBuilt.join(', ')}) in ${seconds(affected)}`);
    // The full push runs its images side by side, so on few cores it gains less from doing less.
    const parallel = JSON.parse(await readFile(join(workspace.root, 'nx.json'), 'utf8')).parallel ?? 3;
    console.log(`cores: ${availableParallelism()}; Nx runs up to ${parallel} tasks at once`);
    console.log(`images built: ${affectedBuilt.length} of ${fullBuilt.length}; affected/full wall-time ratio: ${(affected / full).toFixed(2)}`);
  } finally {
    await workspace.remove();
    await testbed.stop();
  }
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
