/**
 * The main job, rehearsed on this machine with nothing sent off it (see release-rehearsal.ts):
 * third-party images mirrored into the registry that plays Gitea's, `nx release 1.0.0` publishes
 * everything, a `feat:` change to one service, `nx release` gives 1.1.0 with exactly that image
 * built and the others tagged registry-side, then install.sh installs 1.1.0 from the Gitea test
 * server. Ends with a table of what was released.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { ImageResult } from '@changemaker/release-contract';
import { makeFeatureChange, readImageResults, rehearsedServices, startReleaseRehearsal, type ReleaseRehearsal } from './release-rehearsal';

/**
 * Ctrl-C (SIGINT) or a cancelled CI job (SIGTERM) aborts the rehearsal instead of killing this
 * process at once, which left the registries' storage, the buildah sandbox (300 MB) and the
 * workspace copy in the temp directory on every interrupted run: the command running is stopped,
 * main() stops the rest, and the demo ends with one line and 128 + the signal's number.
 */
function abortOnSignals(): { signal: AbortSignal; received(): NodeJS.Signals | undefined } {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(name, () => {
      received ??= name;
      controller.abort(new Error(`interrupted by ${name}`));
    });
  }
  return { signal: controller.signal, received: () => received };
}

const interruption = abortOnSignals();

async function main(): Promise<void> {
  const started = Date.now();
  const rehearsal = await startReleaseRehearsal({ log: (line) => console.log(`-- ${line}`), cancelSignal: interruption.signal });
  try {
    console.log(`registry ${rehearsal.testbed.registry.host}/admin (plays Gitea's), Gitea test server ${rehearsal.gitea.url}, git origin ${rehearsal.remote}`);
    await step(rehearsal, 'mirror the third-party images', ['run', 'docker:mirror-images', `--manifest=${rehearsal.mirrorList}`]);
    await step(rehearsal, 'nx release 1.0.0: the first release, every image built', ['release', '1.0.0', '--yes']);
    const first = await readImageResults(rehearsal);
    await makeFeatureChange(rehearsal, 'api');
    console.log('\n== feat(api): a change to one service, committed');
    await step(rehearsal, 'nx release: conventional commits give 1.1.0', ['release', '--yes']);
    const second = await readImageResults(rehearsal);
    await installRelease(rehearsal, 'v1.1.0');
    printTable(rehearsal, first, second);
    console.log(`\ndemo done in ${((Date.now() - started) / 1000).toFixed(0)} s; nothing left running, nothing sent off this machine`);
  } finally {
    await rehearsal.stop();
  }
}

async function step(rehearsal: ReleaseRehearsal, title: string, args: string[]): Promise<void> {
  console.log(`\n== ${title}\n$ npx nx ${args.join(' ')}`);
  const result = await rehearsal.nx(args, { stream: true });
  if (result.exitCode !== 0) throw new Error(`npx nx ${args.join(' ')} failed (exit ${result.exitCode}); its output is above`);
}

async function installRelease(rehearsal: ReleaseRehearsal, tag: string): Promise<void> {
  const place = await mkdtemp(join(tmpdir(), 'cm-server-'));
  try {
    const dir = join(place, 'changemaker-lite');
    console.log(`\n== install.sh installs ${tag} from the Gitea test server\n$ bash docker/scripts/install.sh --version ${tag} --dir ${dir} --no-config`);
    const env = { GITEA_URL: rehearsal.env.GITEA_URL, GITEA_REPO: rehearsal.env.GITEA_REPO, GITEA_REGISTRY: rehearsal.env.GITEA_REGISTRY, PATH: process.env['PATH'] ?? '' };
    const installed = await execa('bash', [join(rehearsal.workspace.root, 'docker/scripts/install.sh'), '--version', tag, '--dir', dir, '--no-config'], {
      env,
      extendEnv: false,
      stdin: 'ignore',
      reject: false,
      all: true,
      cancelSignal: interruption.signal,
    });
    console.log(installed.all);
    if (installed.exitCode !== 0) throw new Error(`install.sh failed (exit ${installed.exitCode})`);
    console.log(`installed: ${dir}/VERSION says ${(await readFile(join(dir, 'VERSION'), 'utf8')).trim()}`);
  } finally {
    await rm(place, { recursive: true, force: true });
  }
}

function printTable(rehearsal: ReleaseRehearsal, first: Map<string, ImageResult>, second: Map<string, ImageResult>): void {
  const release = rehearsal.gitea.releases().find((candidate) => candidate.tagName === 'v1.1.0');
  console.log('\n== released');
  console.log(`version   v1.1.0 (after v1.0.0)`);
  console.log(`${'image'.padEnd(10)} ${'v1.1.0'.padEnd(22)} digest (v1.0.0 digest when it changed)`);
  for (const service of rehearsedServices) {
    const now = second.get(service);
    const before = first.get(service);
    const how = now?.built ? 'built' : 'tagged registry-side';
    const change = now?.digest === before?.digest ? 'unchanged' : `was ${before?.digest}`;
    console.log(`${service.padEnd(10)} ${how.padEnd(22)} ${now?.digest} (${change})`);
  }
  console.log(`release   ${rehearsal.gitea.url}/${rehearsal.gitea.owner}/${rehearsal.gitea.repo}/releases/tag/v1.1.0 (${release?.draft ? 'draft' : 'published'})`);
  for (const asset of release?.attachments ?? []) console.log(`  asset   ${asset.name} (${asset.bytes.length} bytes)`);
}

main().then(
  () => exitIfInterrupted(),
  (error: Error) => {
    exitIfInterrupted();
    console.error(`demo failed: ${error.message}`);
    process.exit(1);
  },
);

/** An interrupted demo has stopped its servers and removed its temp directories by now (main's finally). */
function exitIfInterrupted(): void {
  const signal = interruption.received();
  if (!signal) return;
  console.error(`demo interrupted by ${signal}: stopped its registries, sandbox and Gitea test server and removed its temp directories`);
  process.exit(128 + constants.signals[signal]);
}
