/**
 * bench/ci-push: what the Gitea workflow's choice costs. On every push to main it runs
 * `nx run-many -t docker-push` (every image, the registry lookup tagging the unchanged ones
 * registry-side) instead of `nx affected -t docker-push` against the previous commit, so that an
 * image a failed run left out is pushed by the next one. In one run, against the same registry and
 * engine, one round per service: a change to that service and the workflow's run-many, then
 * another change to it and the affected push. Both build the one changed image; the difference is
 * the unchanged images' Nx tasks, their `build` targets and the registry's HEADs and tag PUTs. An
 * untimed first push pulls the base images. Prints each round and, on the last line, the mean
 * run-many/affected ratios of CPU time and wall time.
 */
import { join } from 'node:path';
import { changeServices, services, withPushedWorkspace, type ImagePush } from '../image-pushes';
import { mean, seconds } from '../measure';

const workspaceRoot = join(__dirname, '../..');

async function main(): Promise<void> {
  await withPushedWorkspace(workspaceRoot, async ({ workspace, push }) => {
    const wallRatios: number[] = [];
    const cpuRatios: number[] = [];
    for (const [index, changed] of services.entries()) {
      const round = index + 1;
      await changeServices(workspace, [changed], `runmany${round}`);
      const everyImage = await push('run-many');
      await changeServices(workspace, [changed], `affected${round}`);
      const affected = await push('affected', '--base=HEAD~1', '--head=HEAD');
      if (everyImage.built.length !== 1 || affected.built.length !== 1) {
        throw new Error(`round ${round} built ${everyImage.built.join(', ')} with run-many and ${affected.built.join(', ')} affected; expected one each`);
      }
      wallRatios.push(everyImage.ms / affected.ms);
      cpuRatios.push(everyImage.cpuMs / affected.cpuMs);
      console.log(`round ${round}, ${changed} changed: run-many ${describe(everyImage)}, affected ${describe(affected)}`);
    }
    console.log(`images built per push: 1 of ${services.length}; run-many/affected CPU-time ratio: ${mean(cpuRatios).toFixed(2)}, wall-time ratio: ${mean(wallRatios).toFixed(2)} (mean of ${services.length} rounds)`);
  });
}

function describe(push: ImagePush): string {
  return `${push.built.join(', ')} built in ${seconds(push.ms)} (CPU ${seconds(push.cpuMs)})`;
}

main().catch((error: Error) => {
  console.error(`bench/ci-push failed: ${error.message}`);
  process.exit(1);
});
