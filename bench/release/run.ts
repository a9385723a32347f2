/**
 * bench/release: `nx release` after a change to one service against a release that builds every
 * image (the first release), on the rehearsal of tools/demo (loopback registry, buildah or podman,
 * the Gitea test server). The registry sits behind a recording proxy, which counts the layer bytes
 * each image's repository received. An untimed `nx run-many -t docker-build` first pulls the base
 * images, so neither timed release pays for that; it leaves Nx's cache empty, so the first release
 * builds every app its images hold, as a first release on a fresh clone does.
 * Each round is a fresh rehearsal with three releases: the first (every image built), one after a
 * change to api, and one after a change no image holds (the floor every release pays); then Nx
 * alone running the same task graph with tasks that do nothing (nx-alone.ts), and `nx release
 * --skip-publish` after one more such change (versioning alone: version, changelog, commit, tag):
 * together the least any release of one task per image can spend, and the ratio each would allow. CPU time on
 * this 2-core machine swings by a tenth from run to run (container storage on disk), so there are
 * three rounds (BENCH_ROUNDS) and the medians count. Prints each round, the images built, the
 * layer bytes uploaded for the unchanged images (must be 0) and, on the last line, the CPU-time and
 * wall-time ratios second/first. The first release builds its four images side by side, so its
 * wall time falls with the cores it gets (2 here); the CPU time does not.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFaultProxy } from '@changemaker/testing';
import { makeFeatureChange, readImageResults, rehearsedServices, startReleaseRehearsal, type ReleaseRehearsal } from '../../tools/demo/release-rehearsal';
import { measured, median, seconds, type Timing } from '../measure';
import { measureNxAlone, type NxAlone } from './nx-alone';

const changed = 'api';
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
/** The issue's goal for the last line's CPU-time ratio. */
const goal = 0.35;

interface Round {
  first: Timing;
  second: Timing;
  floor: Timing;
  nxAlone: NxAlone;
  versioning: Timing;
  built: { first: string[]; second: string[]; floor: string[] };
  uploadedForUnchanged: Array<readonly [string, number]>;
}

async function main(): Promise<void> {
  const results: Round[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    const result = await benchRound();
    results.push(result);
    console.log(
      `round ${round}/${rounds}: first release (v1.0.0, built ${result.built.first.join(', ')}) ${describe(result.first)}; ` +
        `after a change to ${changed} (v1.1.0, built ${result.built.second.join(', ') || 'nothing'}) ${describe(result.second)}; ` +
        `no image change (v1.1.1, built ${result.built.floor.length}) ${describe(result.floor)}; nx alone ${describe(result.nxAlone.js)} (JS), ${describe(result.nxAlone.ts)} (TypeScript), ${describe(result.nxAlone.runCommands)} (run-commands), ${describe(result.nxAlone.noProcess)} (nx:noop); versioning alone ${describe(result.versioning)}`,
    );
  }
  const first = medianOf(results.map((result) => result.first));
  const second = medianOf(results.map((result) => result.second));
  const floor = medianOf(results.map((result) => result.floor));
  const nxAlone = (kind: keyof NxAlone) => medianOf(results.map((result) => result.nxAlone[kind])).cpuMs;
  const versioning = medianOf(results.map((result) => result.versioning)).cpuMs;
  console.log(`medians of ${rounds} rounds: first release ${describe(first)}; after a change to ${changed} ${describe(second)}`);
  console.log(`the floor every release pays (nx, version, changelog, a task per image, packaging, Gitea; the release that builds nothing): ${describe(floor)}, ${(floor.cpuMs / first.cpuMs).toFixed(2)} of the first release's CPU`);
  console.log(`image work alone, above that floor: CPU-time ratio ${((second.cpuMs - floor.cpuMs) / (first.cpuMs - floor.cpuMs)).toFixed(2)} (one image built against four)`);
  const work = { every: first.cpuMs - floor.cpuMs, one: second.cpuMs - floor.cpuMs };
  console.log(`the floor a ratio of ${goal} needs, with this image work: ${floorForGoal(work)}`);
  console.log(
    `nx alone, running a task per image and one for the product that do nothing: ${ratioWithFloor('executors in plain JS', nxAlone('js'), work)}; ` +
      `${ratioWithFloor('executors in TypeScript, as Nx loaded this plugin before it was compiled', nxAlone('ts'), work)}; ` +
      `${ratioWithFloor('run-commands tasks running node -e 0, which Nx starts without its executor runner', nxAlone('runCommands'), work)}; ` +
      `CPU ${seconds(nxAlone('noProcess'))} with no task process at all (nx:noop)`,
  );
  const leastFloor = versioning + nxAlone('runCommands') - nxAlone('noProcess');
  console.log(
    `versioning alone (nx release --skip-publish: version, changelog, commit, tag) CPU ${seconds(versioning)}; with the task processes of run-commands tasks, ` +
      `the least floor of any release of one task per image, before a registry, packaging, signing or Gitea call: ${ratioWithFloor('versioning + run-commands tasks', leastFloor, work)}`,
  );
  const executorRunner = nxAlone('js') - nxAlone('runCommands');
  console.log(
    `were the release's tasks run-commands targets instead of executors, all else the same (a projection: this floor less what Nx's executor runner costs its five tasks, ${seconds(executorRunner)}): ` +
      ratioWithFloor('projected floor', floor.cpuMs - executorRunner, work),
  );
  const uploads = results.flatMap((result) => result.uploadedForUnchanged);
  const unchanged = rehearsedServices.filter((service) => service !== changed);
  console.log(`layer bytes uploaded for the unchanged images, all rounds: ${unchanged.map((service) => `${service} ${uploads.filter(([name]) => name === service).reduce((sum, [, bytes]) => sum + bytes, 0)}`).join(', ')}`);
  console.log(`images built: first release ${results[0]!.built.first.length}, release after a one-service change ${results[0]!.built.second.length}`);
  console.log(`release after a one-service change / release building every image: CPU-time ratio ${(second.cpuMs / first.cpuMs).toFixed(2)}, wall-time ratio ${(second.ms / first.ms).toFixed(2)} (medians of ${rounds} rounds)`);
}

async function benchRound(): Promise<Round> {
  const rehearsal = await startReleaseRehearsal();
  const proxy = await startFaultProxy(rehearsal.testbed.registry.host);
  const env = { GITEA_REGISTRY: `${proxy.host}/admin` };
  try {
    await nx(rehearsal, ['run', 'docker:mirror-images', `--manifest=${rehearsal.mirrorList}`], env);
    // Not into Nx's cache: the first release would then find every app's bundle there and build
    // none, while the release after a change builds api's. A release that builds every image
    // builds every app it holds, as on a fresh clone.
    await nx(rehearsal, ['run-many', '-t', 'docker-build', '--skip-nx-cache'], env);

    const first = await measured(() => nx(rehearsal, ['release', '1.0.0', '--yes'], env));
    const firstBuilt = await builtImages(rehearsal);

    await makeFeatureChange(rehearsal, changed);
    proxy.requests.length = 0;
    const second = await measured(() => nx(rehearsal, ['release', '--yes'], env));
    const secondBuilt = await builtImages(rehearsal);
    const secondRequests = [...proxy.requests];

    await changeOperatorNotes(rehearsal);
    const floor = await measured(() => nx(rehearsal, ['release', '--yes'], env));
    const floorBuilt = await builtImages(rehearsal);
    const nxAlone = await measureNxAlone(rehearsal, env);
    await changeOperatorNotes(rehearsal, 'spell out where the settings live');
    const versioning = await measured(() => nx(rehearsal, ['release', '--skip-publish'], env));

    const unchanged = rehearsedServices.filter((service) => service !== changed);
    return {
      first,
      second,
      floor,
      nxAlone,
      versioning,
      built: { first: firstBuilt, second: secondBuilt, floor: floorBuilt },
      uploadedForUnchanged: unchanged.map((service) => [service, layerBytesUploaded(secondRequests, service)] as const),
    };
  } finally {
    await proxy.stop();
    await rehearsal.stop();
  }
}

interface ImageWork {
  /** CPU above the floor of the release that builds every image, and of the one after a one-service change. */
  every: number;
  one: number;
}

/** The CPU-time ratio a release would reach were its floor this one (nx-alone.ts, or versioning with it). */
function ratioWithFloor(kind: string, floorMs: number, work: ImageWork): string {
  return `CPU ${seconds(floorMs)} (${kind}), a CPU-time ratio of ${((floorMs + work.one) / (floorMs + work.every)).toFixed(2)} were that the whole floor`;
}

/** The floor at which (floor + one) / (floor + every) is the goal. */
function floorForGoal(work: ImageWork): string {
  const floor = (goal * work.every - work.one) / (1 - goal);
  return floor > 0 ? `at most ${seconds(floor)} of CPU` : 'none (the image work alone is above it)';
}

function describe(timing: Timing): string {
  return `${seconds(timing.ms)}, CPU ${seconds(timing.cpuMs)}`;
}

function medianOf(timings: readonly Timing[]): Timing {
  return { ms: median(timings.map((timing) => timing.ms)), cpuMs: median(timings.map((timing) => timing.cpuMs)) };
}

async function nx(rehearsal: ReleaseRehearsal, args: string[], env: Record<string, string>): Promise<void> {
  const result = await rehearsal.nx(args, { env });
  if (result.exitCode !== 0) throw new Error(`npx nx ${args.join(' ')} failed (exit ${result.exitCode}):\n${result.all}`);
}

/** A `fix:` commit that touches no image: the release after it builds nothing. */
async function changeOperatorNotes(rehearsal: ReleaseRehearsal, note = 'point operators at the README'): Promise<void> {
  const file = join(rehearsal.workspace.root, 'docker/.env.example');
  await writeFile(file, `${await readFile(file, 'utf8')}# ${note}\n`);
  await rehearsal.workspace.commitAll(`fix(docker): ${note}`);
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
