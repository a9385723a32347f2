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
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { changeServices, services, withPushedWorkspace } from '../image-pushes';
import { mean, seconds } from '../measure';

const workspaceRoot = join(__dirname, '../..');

async function main(): Promise<void> {
  await withPushedWorkspace(workspaceRoot, async ({ workspace, push }) => {
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
  });
}

main().catch((error: Error) => {
  console.error(`bench/affected failed: ${error.message}`);
  process.exit(1);
});
