/**
 * bench/image-cache: what the layer cache saves a fresh CI runner. A fixture service whose
 * Dockerfile installs its dependencies in a step that costs seconds of CPU (a shell loop standing
 * in for `npm ci`), then copies a small application file. In one run, with buildah (BENCH_ENGINE=podman
 * for podman), every runner a fresh, empty image storage, one registry on loopback:
 *   1. runner A builds and pushes commit 1 cold: empty storage, empty registry cache;
 *   2. the application file alone changes (commit 2); runner B, fresh, builds and pushes it,
 *      importing the dependency steps from the registry-backed cache;
 *   3. commit 2 again on runner A (its local cache left by commit 1) and on runner C with
 *      --no-cache: the three digests of commit 2 must be one; then commit 3, another one-file
 *      change, on a fresh runner D, so each of cold and warm is measured twice (the best counts:
 *      other work on these shared cores only ever adds to a wall time);
 *   4. the thin service images (a bundle copied onto a base, as apps/* do): a push on a fresh runner
 *      now, against the command line before the layer cache (no layer cache, one layer per stage,
 *      nothing imported or exported), alternating, twelve rounds each, the best counting; at most
 *      10% slower, and the engine asked for exactly what it was asked before. Second-long pushes
 *      on shared cores are noisy: an A/A run of this comparison (the same code on both sides) gave
 *      1.08, so the engine commands being the same is the stronger evidence.
 * Prints the times (wall and CPU: two cores are shared here), the digests, and on the last line
 * the ratio warm fresh runner / cold.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { buildAndPushImage, processCommandRunner, type CommandRunner, type ImageBuildOptions, type ImageBuildResult } from '@changemaker/image-build';
import { createBuildahSandbox, pushStandInBaseImages, startRegistry, type BuildahSandbox, type TestRegistry } from '@changemaker/testing';

const engine = process.env['BENCH_ENGINE'] ?? 'buildah';
/** About twelve seconds of one core here: less than a modest `npm ci` or apt install costs. */
const dependencyLoopIterations = 15_000_000;

const heavyDockerfile = `FROM node:20-bookworm-slim AS production
COPY package.json /app/package.json
RUN i=0; while [ $i -lt ${dependencyLoopIterations} ]; do i=$((i+1)); done; mkdir -p /app/node_modules/dependency && yes "module.exports = 'installed';" | head -c 2000000 > /app/node_modules/dependency/index.js
COPY main.js /app/main.js
CMD ["node", "/app/main.js"]
`;
/** As apps/api's: dependencies are installed in a development stage; production copies a bundle onto the base. */
const thinDockerfile = `FROM node:20-bookworm-slim AS development
COPY package.json /app/package.json
RUN mkdir -p /app/node_modules
FROM node:20-bookworm-slim AS production
COPY main.js /app/main.js
CMD ["node", "/app/main.js"]
`;

interface Fixture {
  root: string;
  commit(message: string, time: string): Promise<void>;
  changeApplication(text: string): Promise<void>;
}

async function main(): Promise<void> {
  const hub = await startRegistry();
  const target = await startRegistry();
  const fixture = await createFixture();
  const runners: BuildahSandbox[] = [];
  const freshRunner = async () => {
    const runner = await createBuildahSandbox(hub.host);
    runners.push(runner);
    return runner;
  };
  try {
    console.log(`engine: ${engine}; registry ${target.host}; base images on ${hub.host}`);
    await pushStandInBaseImages(await freshRunner(), hub.host, [{ name: 'library/node:20-bookworm-slim', node: false }]);
    const push = (runner: BuildahSandbox, overrides: Partial<ImageBuildOptions> = {}, wrap?: (runner: CommandRunner) => CommandRunner) =>
      measuredPush(pushOptions(fixture, target, runner, overrides), wrap);

    await fixture.commit('commit 1', '2026-01-01T00:00:00Z');
    const runnerA = await freshRunner();
    const cold = await push(runnerA);
    console.log(`1. cold, runner A (empty storage, empty registry cache): ${describe(cold)}`);

    await fixture.changeApplication('console.log("commit 2");\n');
    await fixture.commit('commit 2: the application file alone', '2026-01-02T00:00:00Z');
    const warmFresh = await push(await freshRunner());
    console.log(`2. one-file change, runner B (empty storage, registry cache): ${describe(warmFresh)}`);

    const localCache = await push(runnerA, { registryCache: false });
    console.log(`3. commit 2 again on runner A (local cache from commit 1): ${describe(localCache)}`);
    const noCache = await push(await freshRunner(), { registryCache: false, cache: false });
    console.log(`   commit 2 on runner C with --no-cache (a second cold build): ${describe(noCache)}`);
    const digests = [warmFresh, localCache, noCache].map((run) => run.result.digest);
    const identical = digests.every((digest) => digest === digests[0]);
    console.log(`   digests of commit 2 across runners and cache states: ${identical ? `identical (${digests[0]})` : `DIFFERENT: ${digests.join(' ')}`}`);

    await fixture.changeApplication('console.log("commit 3");\n');
    await fixture.commit('commit 3: the application file alone', '2026-01-03T00:00:00Z');
    const secondWarmFresh = await push(await freshRunner());
    console.log(`   one-file change again (commit 3), runner D (empty storage, registry cache): ${describe(secondWarmFresh)}`);

    const thin = await benchThinImages(fixture, push, freshRunner);
    console.log(
      `4. thin image push on a fresh runner, best of ${thin.rounds}: now ${seconds(thin.cached)} (CPU ${seconds(thin.cachedCpu)}), before the cache ` +
        `${seconds(thin.today)} (CPU ${seconds(thin.todayCpu)}): ratio ${(thin.cached / thin.today).toFixed(2)}, CPU ratio ${(thin.cachedCpu / thin.todayCpu).toFixed(2)} ` +
        `(at most 1.10); engine commands the same as before the cache: ${thin.sameCommands ? 'yes' : 'NO'}`,
    );
    // Best of two each: other work on these shared cores only ever adds to a wall time.
    const coldBest = Math.min(cold.ms, noCache.ms);
    const warmBest = Math.min(warmFresh.ms, secondWarmFresh.ms);
    const cpuRatio = Math.min(warmFresh.cpuMs, secondWarmFresh.cpuMs) / Math.min(cold.cpuMs, noCache.cpuMs);
    console.log(`heavy image, best of two: cold ${seconds(coldBest)}, warm fresh runner ${seconds(warmBest)}; CPU ratio ${cpuRatio.toFixed(2)}`);
    console.log(`heavy image after a one-file change, warm fresh runner / cold: ratio ${(warmBest / coldBest).toFixed(2)}`);
    if (!identical) process.exitCode = 1;
  } finally {
    for (const runner of runners) await runner.remove();
    await rm(fixture.root, { recursive: true, force: true });
    await target.stop();
    await hub.stop();
  }
}

interface MeasuredPush {
  result: ImageBuildResult;
  ms: number;
  cpuMs: number;
}

async function measuredPush(options: ImageBuildOptions, wrap?: (runner: CommandRunner) => CommandRunner): Promise<MeasuredPush> {
  const runner = processCommandRunner(options.env);
  const cpuBefore = await finishedChildrenCpuMs();
  const started = process.hrtime.bigint();
  const result = await buildAndPushImage({ ...options, runner: wrap ? wrap(runner) : runner });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (!result.built) throw new Error(`${result.image} was not built: the bench needs every push to build`);
  return { result, ms, cpuMs: (await finishedChildrenCpuMs()) - cpuBefore };
}

function pushOptions(fixture: Fixture, target: TestRegistry, runner: BuildahSandbox, overrides: Partial<ImageBuildOptions>): ImageBuildOptions {
  // Loopback only: the product's defaults name a public host.
  const env = { ...process.env, ...runner.env, GITEA_REGISTRY: `${target.host}/admin`, GITEA_URL: 'http://127.0.0.1:9' };
  return {
    dockerfile: join(fixture.root, 'Dockerfile.heavy'),
    context: join(fixture.root, 'context'),
    target: 'production',
    registry: `${target.host}/admin`,
    imageName: 'bench-heavy',
    tagPatterns: ['{sha}', 'latest'],
    buildArgs: {},
    platforms: [],
    engine,
    push: true,
    registryCache: true,
    workspaceRoot: fixture.root,
    env,
    log: () => undefined,
    ...overrides,
  };
}

async function benchThinImages(
  fixture: Fixture,
  push: (runner: BuildahSandbox, overrides?: Partial<ImageBuildOptions>, wrap?: (runner: CommandRunner) => CommandRunner) => Promise<MeasuredPush>,
  freshRunner: () => Promise<BuildahSandbox>,
): Promise<ThinImageTimes> {
  // Even: each goes first as often as the other.
  const rounds = 12;
  const times = { cached: [] as MeasuredPush[], today: [] as MeasuredPush[] };
  const buildCommands = { cached: [] as string[], today: [] as string[] };
  for (let round = 1; round <= rounds; round++) {
    await fixture.changeApplication(`console.log("thin ${round}");\n`);
    await fixture.commit(`thin round ${round}`, `2026-02-${String(round).padStart(2, '0')}T00:00:00Z`);
    // Alternating which goes first, so neither always meets a registry the other just warmed.
    const order = round % 2 === 1 ? (['cached', 'today'] as const) : (['today', 'cached'] as const);
    for (const which of order) {
      const record = recordingBuildCommands(buildCommands[which]);
      const wrap = which === 'today' ? (runner: CommandRunner) => record(withTodaysCommandLine(runner)) : record;
      // A repository each: the same image pushed second would find every blob there already.
      const overrides = { dockerfile: join(fixture.root, 'Dockerfile.thin'), imageName: `bench-thin-${which}`, registryCache: false };
      times[which].push(await push(await freshRunner(), overrides, wrap));
    }
    console.log(`   thin round ${round}: now ${seconds(times.cached.at(-1)?.ms ?? 0)}, before the cache ${seconds(times.today.at(-1)?.ms ?? 0)}`);
  }
  const sameImageName = (command: string) => command.replaceAll('bench-thin-today', 'bench-thin-cached');
  const difference = firstDifference(buildCommands.today.map(sameImageName), buildCommands.cached);
  if (difference) console.log(`   the engine was asked differently:\n     before the cache: ${difference.before}\n     now:              ${difference.now}`);
  return {
    rounds,
    cached: Math.min(...times.cached.map((run) => run.ms)),
    today: Math.min(...times.today.map((run) => run.ms)),
    cachedCpu: Math.min(...times.cached.map((run) => run.cpuMs)),
    todayCpu: Math.min(...times.today.map((run) => run.cpuMs)),
    sameCommands: firstDifference(buildCommands.today.map(sameImageName), buildCommands.cached) === undefined,
  };
}

function firstDifference(before: readonly string[], now: readonly string[]): { before: string; now: string } | undefined {
  const index = Array.from({ length: Math.max(before.length, now.length) }, (_, at) => at).find((at) => before[at] !== now[at]);
  return index === undefined ? undefined : { before: before[index] ?? '(no command)', now: now[index] ?? '(no command)' };
}

interface ThinImageTimes {
  rounds: number;
  cached: number;
  today: number;
  cachedCpu: number;
  todayCpu: number;
  /** Whether the engine was asked for exactly what it was asked for before the cache. */
  sameCommands: boolean;
}

function recordingBuildCommands(commands: string[]): (runner: CommandRunner) => CommandRunner {
  return (runner) => ({
    run: (command, args, options) => {
      if (args[0] === 'build') commands.push(`${command} ${withoutRunPaths(args).join(' ')}`);
      return runner.run(command, args, options);
    },
  });
}

/** The credentials file is a new temp file on every push: its path says nothing about what the engine was asked. */
function withoutRunPaths(args: readonly string[]): string[] {
  return args.map((argument, index) => (args[index - 1] === '--authfile' ? '<temporary auth file>' : argument));
}

/**
 * The peer: builds as they ran before the layer cache, `--layers=false` and nothing imported or
 * exported; everything else (the push, the config rewrite) is the same code.
 */
function withTodaysCommandLine(runner: CommandRunner): CommandRunner {
  return { run: (command, args, options) => runner.run(command, args[0] === 'build' ? todaysBuildArguments(args) : args, options) };
}

function todaysBuildArguments(args: readonly string[]): string[] {
  const today: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const argument = args[index];
    if (['--cache-to', '--cache-from', '--authfile'].includes(argument)) index++;
    else if (argument === '--layers') today.push('--layers=false');
    else if (argument !== '--tls-verify=false') today.push(argument);
  }
  return today;
}

async function createFixture(): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), 'bench-image-cache-'));
  await execa('mkdir', ['-p', join(root, 'context')]);
  await writeFile(join(root, 'Dockerfile.heavy'), heavyDockerfile);
  await writeFile(join(root, 'Dockerfile.thin'), thinDockerfile);
  await writeFile(join(root, 'context/package.json'), '{ "name": "bench-heavy", "dependencies": { "dependency": "1.0.0" } }\n');
  await writeFile(join(root, 'context/main.js'), 'console.log("commit 1");\n');
  await execa('git', ['init', '-q', '-b', 'main'], { cwd: root });
  return {
    root,
    commit: async (message, time) => {
      await execa('git', ['add', '-A'], { cwd: root });
      const identity = ['-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid'];
      await execa('git', [...identity, 'commit', '-qm', message], { cwd: root, env: { GIT_AUTHOR_DATE: time, GIT_COMMITTER_DATE: time } });
    },
    changeApplication: (text) => writeFile(join(root, 'context/main.js'), text),
  };
}

function describe(run: MeasuredPush): string {
  return `${seconds(run.ms)} (CPU ${seconds(run.cpuMs)}), ${run.result.digest}`;
}

/** User and system time of every child this process has waited for (Linux /proc/self/stat cutime and cstime, 1/100 s ticks). */
async function finishedChildrenCpuMs(): Promise<number> {
  const fieldsAfterCommand = (await readFile('/proc/self/stat', 'utf8')).split(') ')[1].split(' ');
  const [childrenUserTicks, childrenSystemTicks] = fieldsAfterCommand.slice(13, 15).map(Number);
  return (childrenUserTicks + childrenSystemTicks) * 10;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

main().catch((error: Error) => {
  console.error(`bench/image-cache failed: ${error.message}`);
  process.exit(1);
});
