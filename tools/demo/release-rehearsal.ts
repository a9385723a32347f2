/**
 * A whole release rehearsed on this machine, with nothing sent off it: a throwaway clone of the
 * workspace with a bare git repository as its origin, a loopback registry standing in for Gitea's
 * (and one for Docker Hub, holding the stand-in base images and the upstream third-party images),
 * buildah in a private sandbox, and the Gitea test server. Used by `npm run demo`, the release e2e
 * test and bench/release.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type Result, type ResultPromise } from 'execa';
import { copyImage, ImageReference, ociLayoutImage, RegistryClient, registryImage } from '@changemaker/oci';
import { imageResultPathOf, signingKeyFileVariable, type ImageResult } from '@changemaker/release-contract';
import {
  createThrowawayWorkspace,
  startGiteaServer,
  startImageTestbed,
  startTogether,
  trustedSigningKey,
  writeSyntheticImages,
  type ImageTestbed,
  type Stoppable,
  type TestGiteaServer,
  type ThrowawayWorkspace,
} from '@changemaker/testing';

export interface ReleaseRehearsal {
  workspace: ThrowawayWorkspace;
  testbed: ImageTestbed;
  gitea: TestGiteaServer;
  /** The bare repository that is the clone's origin. */
  remote: string;
  /** Everything nx needs: the sandboxed engine, GITEA_* on loopback, the write token. */
  env: Record<string, string>;
  token: string;
  /** An allowed_signers file trusting the throwaway key the rehearsal's releases are signed with. */
  allowedSigners: string;
  /** Runs `nx …` in the clone; never throws, the caller reads the exit code. */
  nx(args: readonly string[], options?: NxRunOptions): Promise<Result>;
  /**
   * Starts `nx …` in a process group of its own, as a terminal starts a command, so that a test can
   * signal the whole group the way Ctrl-C (or a CI runner cancelling the job) does: `signalGroup(run, 'SIGINT')`.
   */
  start(args: readonly string[], options?: NxRunOptions): ResultPromise<{ all: true; reject: false }>;
  /** Another clone of the same origin (its own checkout and nx cache, the same registry and Gitea), e.g. a CI runner's. */
  clone(): Promise<{ root: string; nx(args: readonly string[], options?: NxRunOptions): ResultPromise<{ all: true; reject: false }>; remove(): Promise<void> }>;
  /** The mirror list whose sources are the Docker Hub stand-in (the product's own list, re-pointed). */
  mirrorList: string;
  stop(): Promise<void>;
}

const workspaceRoot = join(__dirname, '../..');

export interface NxRunOptions {
  stream?: boolean;
  env?: Record<string, string>;
  /** Another checkout of the same origin to run in (see clone()). */
  cwd?: string;
}

/** Sends `signal` to the process group `start()` made: nx and every task and command it runs, as Ctrl-C does. */
export function signalGroup(run: { pid?: number }, signal: NodeJS.Signals): void {
  process.kill(-run.pid!, signal);
}

export interface StartRehearsalOptions {
  log?: (line: string) => void;
  /**
   * Aborted when the rehearsal should end early (the demo's Ctrl-C): start-up stops at its next
   * step, and every command the rehearsal runs (nx, install.sh) is stopped, so that the caller's
   * stop() leaves nothing running and no temp directory behind.
   */
  cancelSignal?: AbortSignal;
}

export async function startReleaseRehearsal(options: StartRehearsalOptions = {}): Promise<ReleaseRehearsal> {
  const log = options.log ?? (() => undefined);
  const cancelSignal = options.cancelSignal;
  const scratch = await mkdtemp(join(tmpdir(), 'cm-rehearsal-'));
  const removeScratch = () => rm(scratch, { recursive: true, force: true });
  const token = randomBytes(20).toString('hex');
  log('starting the registries, the buildah sandbox and the Gitea test server');
  // The bare repository is the clone's origin and Gitea's git data at once, as on a real Gitea.
  const remote = join(scratch, 'changemaker.lite.git');
  const [testbed, gitea, workspace] = await execa('git', ['init', '-q', '--bare', '-b', 'main', remote])
    .then(() =>
      startTogether<[ImageTestbed, TestGiteaServer, ThrowawayWorkspace & Stoppable]>([
        startImageTestbed(),
        startGiteaServer({ gitRepository: remote, tokens: { [token]: { login: 'release-manager', canWrite: true } } }),
        createThrowawayWorkspace(workspaceRoot).then((created) => ({ ...created, stop: created.remove })),
      ]),
    )
    .catch(async (error: unknown) => {
      await removeScratch();
      throw error;
    });
  const stop = async () => {
    await Promise.all([testbed.stop(), gitea.stop(), workspace.remove(), removeScratch()]);
  };
  try {
    cancelSignal?.throwIfAborted();
    const signing = await trustedSigningKey(workspace, scratch);
    await workspace.git('remote', 'add', 'origin', remote);
    await workspace.git('push', '-q', 'origin', 'main');
    cancelSignal?.throwIfAborted();
    const mirrorList = await pushUpstreamStandIns(scratch, testbed.hub.host, log);
    cancelSignal?.throwIfAborted();
    const env = {
      ...testbed.nxEnv,
      GITEA_URL: gitea.url,
      GITEA_REPO: `${gitea.owner}/${gitea.repo}`,
      GITEA_REGISTRY_API_TOKEN: token,
      [signingKeyFileVariable]: signing.keyFile,
      GIT_AUTHOR_NAME: 'Release Manager',
      GIT_AUTHOR_EMAIL: 'release@example.invalid',
      GIT_COMMITTER_NAME: 'Release Manager',
      GIT_COMMITTER_EMAIL: 'release@example.invalid',
    };
    const nxIn = (args: readonly string[], run: NxRunOptions = {}, detached = false) =>
      // nx's own entry point, as `npx nx` runs it, without npx's start-up (a third of a second of CPU) in every measurement.
      execa(process.execPath, [join(run.cwd ?? workspace.root, 'node_modules/nx/dist/bin/nx.js'), ...args], {
        cwd: run.cwd ?? workspace.root,
        env: { ...process.env, ...env, ...run.env },
        reject: false,
        all: true,
        stdin: 'ignore',
        detached,
        cancelSignal,
        ...(run.stream ? { stdout: ['pipe', 'inherit'], stderr: ['pipe', 'inherit'] } : {}),
      }) as ResultPromise<{ all: true; reject: false }>;
    const nx = (args: readonly string[], run: NxRunOptions = {}) => nxIn(args, run);
    const start = (args: readonly string[], run: NxRunOptions = {}) => nxIn(args, run, true);
    const clone = async () => {
      const root = await mkdtemp(join(tmpdir(), 'cm-second-clone-'));
      await execa('git', ['clone', '-q', remote, root]);
      // node_modules is ignored, so a checkout has none: the workspace's own, as the first clone has.
      await symlink(join(workspaceRoot, 'node_modules'), join(root, 'node_modules'));
      return {
        root,
        nx: (args: readonly string[], run: NxRunOptions = {}) => nxIn(args, { ...run, cwd: root }, true),
        remove: () => rm(root, { recursive: true, force: true, maxRetries: 5 }),
      };
    };
    return { workspace, testbed, gitea, remote, env, token, allowedSigners: signing.allowedSigners, nx, start, clone, mirrorList, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Upstream cannot be reached: every third-party image the product pins is pushed to the Docker Hub
 * stand-in as a small synthetic image, and a copy of the product's mirror list names it as their
 * source, so `nx run docker:mirror-images` mirrors them the way it would from Docker Hub.
 */
async function pushUpstreamStandIns(scratch: string, hub: string, log: (line: string) => void): Promise<string> {
  const list = JSON.parse(await readFile(join(workspaceRoot, 'docker/mirror-images.json'), 'utf8')) as MirrorList;
  const entries = Object.values(list.groups).flatMap((group) => group.images);
  log(`pushing ${entries.length} stand-ins for the third-party images to ${hub} (plays Docker Hub)`);
  await pushStandIns(join(scratch, 'upstream'), hub, entries.map((entry) => entry.target));
  for (const entry of entries) entry.source = upstreamStandIn(hub, entry.target);
  const path = join(scratch, 'mirror-images.json');
  await writeFile(path, `${JSON.stringify(list, null, 2)}\n`);
  return path;
}

function upstreamStandIn(hub: string, target: string): string {
  return `${hub}/upstream/${target}`;
}

async function pushStandIns(layout: string, hub: string, targets: readonly string[]): Promise<void> {
  const written = await writeSyntheticImages(
    layout,
    targets.map((target) => ({ tag: target.replace(/[^A-Za-z0-9_.-]/g, '-'), kind: 'single', platforms: ['linux/amd64'], layers: [{ seed: 'upstream-base', size: 64_000 }, { seed: target, size: 4_000 }] })),
  );
  const client = new RegistryClient({ credentials: {} });
  try {
    await Promise.all(written.map((image, index) => copyImage(ociLayoutImage(layout, image.tag), registryImage(client, ImageReference.parse(upstreamStandIn(hub, targets[index]!))))));
  } finally {
    await client.close();
  }
}

/**
 * A commit that adds a service running a new third-party image, pinned in the product's mirror
 * list and present upstream, but not mirrored yet: `mirror()` mirrors it as a user would.
 */
export async function addThirdPartyImage(rehearsal: ReleaseRehearsal, target: string): Promise<{ mirror(): Promise<void> }> {
  const [name] = target.split(':');
  const root = rehearsal.workspace.root;
  await pushStandIns(join(rehearsal.workspace.root, 'tmp/upstream'), rehearsal.testbed.hub.host, [target]);
  for (const [path, source] of [[join(root, 'docker/mirror-images.json'), `docker.io/library/${target}`], [rehearsal.mirrorList, upstreamStandIn(rehearsal.testbed.hub.host, target)]] as const) {
    const list = JSON.parse(await readFile(path, 'utf8')) as MirrorList;
    list.groups['platform']?.images.push({ source, target });
    await writeFile(path, `${JSON.stringify(list, null, 2)}\n`);
  }
  const compose = join(root, 'docker/docker-compose.prod.yml');
  await writeFile(compose, `${await readFile(compose, 'utf8')}\n  ${name}:\n    image: \${GITEA_REGISTRY:-gitea.bnkops.com/admin}/${target}\n    restart: unless-stopped\n`);
  await rehearsal.workspace.commitAll(`feat(docker): a ${name} service`);
  return {
    mirror: async () => {
      const result = await rehearsal.nx(['run', 'docker:mirror-images', `--manifest=${rehearsal.mirrorList}`]);
      if (result.exitCode !== 0) throw new Error(`mirror-images failed: ${result.all}`);
    },
  };
}

interface MirrorList {
  groups: Record<string, { images: Array<{ source: string; target: string }> }>;
}

/** A `feat:` commit that changes what one service's image holds (a new route, not a comment a bundler drops). */
export async function makeFeatureChange(rehearsal: ReleaseRehearsal, service: 'api'): Promise<string> {
  const app = join(rehearsal.workspace.root, 'apps', service, 'src/app.ts');
  const text = await readFile(app, 'utf8');
  const route = "  app.get('/api/version', (_request, response) => {\n    response.json({ service: SERVICE, features: ['version'] });\n  });\n  return app;";
  await writeFile(app, text.replace('  return app;', route));
  return rehearsal.workspace.commitAll(`feat(${service}): report the service's features at /api/version`);
}

/** The workspace services whose images every release of the rehearsal ships. */
export const rehearsedServices = ['api', 'media-api', 'admin', 'nginx'] as const;

/** What the last release's image tasks recorded for each service (dist/images/<service>.json). */
export async function readImageResults(rehearsal: ReleaseRehearsal): Promise<Map<string, ImageResult>> {
  const results = new Map<string, ImageResult>();
  for (const service of rehearsedServices) {
    results.set(service, JSON.parse(await readFile(join(rehearsal.workspace.root, imageResultPathOf(service)), 'utf8')) as ImageResult);
  }
  return results;
}
