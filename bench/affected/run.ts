/**
 * bench/affected: what `nx affected -t docker-push` saves. In one run, against the same registry
 * and engine: a push of all four services (what build-and-push.sh does on every run), then, after a
 * change to one service, the affected push. An untimed first push pulls the base images, so no
 * timed run pays for that. Then one round per service, each a change to all four services and the
 * full push, then a change to that one service and the affected push: the services differ in
 * weight (two node images, two small nginx ones), so no single one stands for "a one-service
 * change". Prints the images built and the times of each round and, on the last line, the mean of
 * the rounds' wall-time ratios affected/full. The CPU time of each push is printed too: the full
 * push runs its images side by side, so its wall time falls with the cores it gets, and the CPU
 * ratio shows what the affected push saves regardless of them.
 */
import { appendFile, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createThrowawayWorkspace, startImageTestbed, type ThrowawayWorkspace } from '@changemaker/testing';
import { measured, seconds } from '../process-time';

const workspaceRoot = join(__dirname, '../..');
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
      const { ms, cpuMs } = await measured(() => execa('node', [join(workspace.root, 'node_modules/nx/dist/bin/nx.js'), ...args, '-t', 'docker-push'], { cwd: workspace.root, env }));
      return { ms, cpuMs, built: await builtImages(workspace) };
    };

    const warmUp = await push('run-many');
    console.log(`untimed first push (pulls the base images): ${warmUp.built.join(', ')} in ${seconds(warmUp.ms)}`);
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (const [index, changed] of services.entries()) {
      const round = index + 1;
      await changeServices(workspace, services, `full${round}`);
      const full = await push('run-many');
      await changeServices(workspace, [changed], `one${round}`);
      const affected = await push('affected', '--base=HEAD~1', '--head=HEAD');
      if (full.built.length !== services.length || affected.built.length !== 1) {
        throw new Error(`round ${round} built ${full.built.join(', ')} in full and ${affected.built.join(', ')} affected`);
      }
      ratios.push(affected.ms / full.ms);
      cpuRatios.push(affected.cpuMs / full.cpuMs);
      console.log(
        `round ${round}: full push ${full.built.length} images in ${seconds(full.ms)} (CPU ${seconds(full.cpuMs)}), ` +
          `affected push ${affected.built.join(', ')} in ${seconds(affected.ms)} (CPU ${seconds(affected.cpuMs)}): ratio ${ratios.at(-1)?.toFixed(2)}, CPU ratio ${cpuRatios.at(-1)?.toFixed(2)}`,
      );
    }
    // The full push runs its images side by side, so on few cores it gains less from doing less.
    const parallel = JSON.parse(await readFile(join(workspace.root, 'nx.json'), 'utf8')).parallel ?? 3;
    console.log(`cores: ${availableParallelism()}; Nx runs up to ${parallel} tasks at once; affected/full CPU-time ratio: ${mean(cpuRatios).toFixed(2)}`);
    console.log(`wall-time ratio by the service changed: ${services.map((name, index) => `${name} ${ratios[index].toFixed(2)}`).join(', ')}`);
    console.log(`images built: 1 of ${services.length}; affected/full wall-time ratio: ${mean(ratios).toFixed(2)} (mean of ${services.length} rounds, one per service)`);
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

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * User and system time of every child this process has waited for, their own waited-for children
 * included (Linux /proc/self/stat cutime and cstime, in clock ticks of 1/100 s).
 */


main().catch((error: Error) => {
  console.error(`bench/affected failed: ${error.message}`);
  process.exit(1);
});
