/**
 * bench/release: `nx release` after a change to one service against a release that builds every
 * image (the first release), in one run on the rehearsal of tools/demo (loopback registry, buildah,
 * the Gitea test server). The registry sits behind a recording proxy, which counts the layer bytes
 * each image's repository received. An untimed `nx run-many -t docker-build` first pulls the base
 * images, so neither timed release pays for that.
 * Prints the images built by each release, the layer bytes uploaded for the unchanged images in the
 * second one (must be 0), a third release that builds nothing (the floor every release pays, and the
 * image work above it) and, on the last line, the CPU-time and wall-time ratios second/first. The
 * first release builds its four images side by side, so its wall time falls with the cores it gets
 * (2 here); the CPU time does not.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFaultProxy } from '@changemaker/testing';
import { makeFeatureChange, readImageResults, rehearsedServices, startReleaseRehearsal, type ReleaseRehearsal } from '../../tools/demo/release-rehearsal';
import { measured, seconds } from '../measure';

const changed = 'api';

async function main(): Promise<void> {
  const rehearsal = await startReleaseRehearsal({ log: (line) => console.log(line) });
  const proxy = await startFaultProxy(rehearsal.testbed.registry.host);
  const env = { GITEA_REGISTRY: `${proxy.host}/admin` };
  try {
    await nx(rehearsal, ['run', 'docker:mirror-images', `--manifest=${rehearsal.mirrorList}`], env);
    await nx(rehearsal, ['run-many', '-t', 'docker-build'], env);
    console.log('untimed: third-party images mirrored, base images pulled');

    const first = await measured(() => nx(rehearsal, ['release', '1.0.0', '--yes'], env));
    const firstBuilt = await builtImages(rehearsal);
    console.log(`first release (v1.0.0): built ${firstBuilt.join(', ')} in ${seconds(first.ms)}, CPU ${seconds(first.cpuMs)}`);

    await makeFeatureChange(rehearsal, changed);
    proxy.requests.length = 0;
    const second = await measured(() => nx(rehearsal, ['release', '--yes'], env));
    const secondBuilt = await builtImages(rehearsal);
    const secondRequests = [...proxy.requests];
    console.log(`release after a change to ${changed} (v1.1.0): built ${secondBuilt.join(', ') || 'nothing'} in ${seconds(second.ms)}, CPU ${seconds(second.cpuMs)}`);

    await changeOperatorNotes(rehearsal);
    const floor = await measured(() => nx(rehearsal, ['release', '--yes'], env));
    const floorBuilt = await builtImages(rehearsal);
    console.log(`release with no image change (v1.1.1, the floor every release pays: nx, version, changelog, a task per image, packaging, Gitea): built ${floorBuilt.length} in ${seconds(floor.ms)}, CPU ${seconds(floor.cpuMs)}`);
    const imageWork = (second.cpuMs - floor.cpuMs) / (first.cpuMs - floor.cpuMs);
    console.log(`image work alone, above that floor: CPU-time ratio ${imageWork.toFixed(2)} (one image built against four)`);

    const unchanged = rehearsedServices.filter((service) => service !== changed);
    const uploaded = unchanged.map((service) => [service, layerBytesUploaded(secondRequests, service)] as const);
    console.log(`layer bytes uploaded for the unchanged images: ${uploaded.map(([service, bytes]) => `${service} ${bytes}`).join(', ')}`);
    console.log(`images built: first release ${firstBuilt.length}, release after a one-service change ${secondBuilt.length}`);
    console.log(`release after a one-service change / release building every image: CPU-time ratio ${(second.cpuMs / first.cpuMs).toFixed(2)}, wall-time ratio ${(second.ms / first.ms).toFixed(2)}`);
  } finally {
    await proxy.stop();
    await rehearsal.stop();
  }
}

async function nx(rehearsal: ReleaseRehearsal, args: string[], env: Record<string, string>): Promise<void> {
  const result = await rehearsal.nx(args, { env });
  if (result.exitCode !== 0) throw new Error(`npx nx ${args.join(' ')} failed (exit ${result.exitCode}):\n${result.all}`);
}

/** A `fix:` commit that touches no image: the release after it builds nothing. */
async function changeOperatorNotes(rehearsal: ReleaseRehearsal): Promise<void> {
  const file = join(rehearsal.workspace.root, 'docker/.env.example');
  await writeFile(file, `${await readFile(file, 'utf8')}# see the README for every setting\n`);
  await rehearsal.workspace.commitAll('fix(docker): point operators at the README');
}

/** The images the last run built, from the results docker-push writes. */
async function builtImages(rehearsal: ReleaseRehearsal): Promise<string[]> {
  return [...(await readImageResults(rehearsal))].filter(([, result]) => result.built).map(([service]) => service);
}

/** Bytes of blob uploads (POST, PATCH, PUT under /blobs/uploads/) the registry received for one image's repository. */
function layerBytesUploaded(requests: ReadonlyArray<{ method: string; path: string; bodyBytes: number }>, service: string): number {
  const uploads = new RegExp(`^/v2/admin/changemaker-${service}/blobs/uploads/`);
  return requests.filter((request) => request.method !== 'GET' && request.method !== 'HEAD' && uploads.test(request.path)).reduce((sum, request) => sum + request.bodyBytes, 0);
}

main().catch((error: Error) => {
  console.error(`bench/release failed: ${error.message}`);
  process.exit(1);
});
