import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import {
  createBuildahSandbox,
  debianDockerClientFirst,
  pushStandInBaseImages,
  startDockerDaemon,
  startFaultProxy,
  startRegistry,
  startTokenServer,
  type BuildahSandbox,
  type TestDockerDaemon,
  type TestRegistry,
  type TokenServer,
} from '@changemaker/testing';
import { ImageReference, RegistryClient } from '@changemaker/oci';
import { buildAndPushImage, type ImageBuildOptions } from './build-and-push';
import { planImagePush } from './image-push-plan';
import { processCommandRunner, type CommandRunner } from './command-runner';
import { inputsTagFor } from './inputs-hash';
import { hostPlatform } from './platforms';

interface RecordedCall {
  command: string;
  args: readonly string[];
  input?: string;
}

/** The real runner, with every call written down so a test can see what the engine was asked. */
function recordingRunner(env: NodeJS.ProcessEnv, calls: RecordedCall[]): CommandRunner {
  const real = processCommandRunner(env);
  return {
    run: (command, args, options) => {
      calls.push({ command, args, input: options?.input });
      return real.run(command, args, options);
    },
  };
}

async function tagsOf(registry: TestRegistry, repository: string, authorization?: string): Promise<string[]> {
  const response = await fetch(`${registry.url}/v2/${repository}/tags/list`, { headers: authorization ? { authorization } : {} });
  if (response.status === 404) return [];
  return ((await response.json()) as { tags: string[] | null }).tags?.sort() ?? [];
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await execa('git', args, { cwd })).stdout.trim();
}

async function commandPath(command: string): Promise<string> {
  return (await execa('sh', ['-c', `command -v ${command}`])).stdout.trim();
}


/** A docker client of 23 or later without buildx (Docker's static binaries): BuildKit only through the plugin. */
function dockerClientNeedingBuildx(): string | undefined {
  const clients = execFileSync('sh', ['-c', 'which -a docker || true']).toString().split('\n').filter(Boolean);
  return clients.find((client) => {
    const major = Number(/version (\d+)\./.exec(execFileSync(client, ['--version']).toString())?.[1] ?? 0);
    return major >= 23 && spawnSync(client, ['buildx', 'version']).status !== 0;
  });
}
const clientNeedingBuildx = dockerClientNeedingBuildx();

describe('buildAndPushImage with real engines and a real registry', () => {
  let hub: TestRegistry;
  let target: TestRegistry;
  let sandbox: BuildahSandbox;
  let dockerDaemon: TestDockerDaemon;
  let workspace: string;
  let calls: RecordedCall[];
  let lines: string[];

  beforeAll(async () => {
    hub = await startRegistry();
    [sandbox, dockerDaemon] = await Promise.all([createBuildahSandbox(hub.host), startDockerDaemon(hub.host)]);
    // A busybox stand-in is enough for a COPY-only stage, and keeps these tests quick.
    await pushStandInBaseImages(sandbox, hub.host, [{ name: 'library/node:20-bookworm-slim', node: false }]);
  });
  afterAll(async () => {
    await dockerDaemon?.stop();
    await sandbox?.remove();
    await hub?.stop();
  });

  beforeEach(async () => {
    target = await startRegistry();
    workspace = await mkdtemp(join(tmpdir(), 'cm-image-build-'));
    await mkdir(join(workspace, 'dist'), { recursive: true });
    await writeFile(
      join(workspace, 'Dockerfile'),
      'FROM node:20-bookworm-slim AS development\nRUN exit 1\n\nFROM node:20-bookworm-slim AS production\nCOPY . /app/\nCMD ["node", "/app/main.js"]\n',
    );
    await writeFile(join(workspace, 'dist/main.js'), 'console.log("hello")\n');
    await git(workspace, 'init', '-q', '-b', 'main');
    await git(workspace, 'add', '.');
    await git(workspace, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'first');
    calls = [];
    lines = [];
  });
  afterEach(async () => {
    await target.stop();
    await rm(workspace, { recursive: true, force: true });
  });

  /** docker talks to the test daemon through the Debian client; podman and buildah use the sandbox's storage. */
  const engineEnvironment = (engine: string) => (engine === 'docker' ? { ...dockerDaemon.env, PATH: debianDockerClientFirst } : {});

  function options(overrides: Partial<ImageBuildOptions> = {}): ImageBuildOptions {
    const engine = overrides.engine ?? 'buildah';
    const env = { ...process.env, ...sandbox.env, ...engineEnvironment(engine), ...(overrides.env ?? {}) };
    return {
      dockerfile: join(workspace, 'Dockerfile'),
      context: join(workspace, 'dist'),
      target: 'production',
      registry: `${target.host}/admin`,
      imageName: 'changemaker-api',
      tagPatterns: ['{sha}', 'latest'],
      buildArgs: {},
      platforms: [],
      engine,
      push: true,
      registryCache: true,
      workspaceRoot: workspace,
      log: (line) => lines.push(line),
      ...overrides,
      env,
      runner: recordingRunner(env, calls),
    };
  }

  const engineCalls = (engine = 'buildah') => calls.filter((call) => call.command === engine && !['--version', 'version', 'buildx'].includes(call.args[0]));

  describe.each(['buildah', 'podman', 'docker'])('with %s', (engine) => {
    it('builds the production stage alone, pushes the commit, latest and inputs tags under one digest, with OCI labels', async () => {
      const sha = await git(workspace, 'rev-parse', 'HEAD');
      const result = await buildAndPushImage(options({ engine }));
      expect(result).toMatchObject({ built: true, engine });
      // Its production stage runs no command: no layer cache, nothing exported to the registry.
      expect(result.layerCache).toBeUndefined();
      expect(await tagsOf(target, 'admin/changemaker-api-cache')).toEqual([]);
      await expectPushedWithLabels(result, sha);
    });

    it('builds without pushing, and sends nothing to the registry', async () => {
      const result = await buildAndPushImage(options({ engine, push: false }));
      expect(result.built).toBe(true);
      expect(result.digest).toBeUndefined();
      expect(engineCalls(engine).map((call) => call.args[0])).toEqual(['build']);
      expect(await tagsOf(target, 'admin/changemaker-api')).toEqual([]);
    });
  });

  it("pushes with docker through the user's current docker context (as Docker Desktop sets one), though a push runs docker with a private config", async () => {
    const userConfig = join(workspace, 'docker-config');
    const docker = (...args: string[]) => execa('docker', ['--config', userConfig, ...args], { env: { PATH: debianDockerClientFirst } });
    await docker('context', 'create', 'test-daemon', '--docker', `host=${dockerDaemon.env.DOCKER_HOST}`);
    await docker('context', 'use', 'test-daemon');
    const throughContext = options({ engine: 'docker', env: { DOCKER_CONFIG: userConfig } });
    // Set, even empty, DOCKER_HOST would override the context.
    delete throughContext.env['DOCKER_HOST'];
    const result = await buildAndPushImage(throughContext);
    expect(result).toMatchObject({ built: true, engine: 'docker' });
    expect(await tagsOf(target, 'admin/changemaker-api')).toHaveLength(3);
    // The private config is removed, the user's contexts it linked to are not.
    expect(await readdir(join(userConfig, 'contexts/meta'))).toHaveLength(1);
  });

  it("passes --no-cache to docker, whose BuildKit keeps its own cache for every build", async () => {
    await buildAndPushImage(options({ engine: 'docker', push: false }));
    await buildAndPushImage(options({ engine: 'docker', push: false, cache: false }));
    const builds = engineCalls('docker').filter((call) => call.args.includes('build'));
    expect(builds.map((call) => call.args.includes('--no-cache'))).toEqual([false, true]);
  });

  async function expectPushedWithLabels(result: Awaited<ReturnType<typeof buildAndPushImage>>, sha: string): Promise<void> {
    expect(result.references).toEqual([`${target.host}/admin/changemaker-api:${sha}`, `${target.host}/admin/changemaker-api:latest`]);
    expect(await tagsOf(target, 'admin/changemaker-api')).toEqual([result.inputsTag, sha, 'latest'].sort());
    const head = await fetch(`${target.url}/v2/admin/changemaker-api/manifests/latest`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(result.digest).toBe(head.headers.get('docker-content-digest'));
    const { stdout } = await execa('skopeo', ['inspect', '--tls-verify=false', `docker://${target.host}/admin/changemaker-api:latest`]);
    const { Labels: labels, Created: created } = JSON.parse(stdout) as { Labels: Record<string, string>; Created: string };
    expect(labels['org.opencontainers.image.revision']).toBe(sha);
    expect(labels['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The layers carry a fixed time so the cache stays valid; the config carries the commit's.
    expect(Date.parse(created)).toBe(Date.parse(labels['org.opencontainers.image.created']));
    expect(Date.parse(created)).toBe(Number(await git(workspace, 'log', '-1', '--format=%ct')) * 1000);
  }

  // Debian's docker 20.10 is left out: its BuildKit ignores SOURCE_DATE_EPOCH, so every build gets the time it ran.
  it.each(['buildah', 'podman'])('rebuilds a commit with %s on a clean machine into the same image, byte for byte, whatever was built before', async (engine) => {
    // This machine built the same files at an earlier commit, so any cache it kept has that commit's time.
    await buildAndPushImage(options({ engine, registryCache: false }));
    await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '--allow-empty', '-m', 'later'], {
      cwd: workspace,
      env: { GIT_COMMITTER_DATE: '2030-01-01T00:00:00Z' },
    });
    const here = await buildAndPushImage(options({ engine, registryCache: false }));
    const cleanMachine = await createBuildahSandbox(hub.host);
    try {
      // Another checkout of the commit: the files' times differ, the image must not.
      await writeFile(join(workspace, 'dist/main.js'), 'console.log("hello")\n');
      const there = await buildAndPushImage(options({ engine, registryCache: false, env: cleanMachine.env }));
      expect(there.commit).toBe(here.commit);
      expect(there.built).toBe(true);
      expect(there.digest).toBe(here.digest);
    } finally {
      await cleanMachine.remove();
    }
  });

  describe.each(['buildah', 'podman'])('the layer cache with %s', (engine) => {
    /** A dependency step (its input changes rarely) before the application file (changes every commit). */
    beforeEach(async () => {
      await writeFile(
        join(workspace, 'Dockerfile'),
        'FROM node:20-bookworm-slim AS production\nCOPY deps.txt /app/\nRUN sed "s/^/installed /" /app/deps.txt > /app/installed.txt\nCOPY main.js /app/\n',
      );
      await writeFile(join(workspace, 'dist/deps.txt'), 'left-pad@1.3.0\n');
      await git(workspace, 'add', '.');
      await git(workspace, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'dependencies');
    });

    const changeApplicationAndCommit = async () => {
      await writeFile(join(workspace, 'dist/main.js'), 'console.log("changed")\n');
      await git(workspace, 'add', '.');
      await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'application only'], {
        cwd: workspace,
        env: { GIT_COMMITTER_DATE: '2030-01-01T00:00:00Z' },
      });
    };
    /** Build steps answered from a cache, local or pulled from the registry. */
    const cachedSteps = () => lines.filter((line) => /--> Using cache/.test(line)).length;
    const onCleanMachine = async <T>(use: (env: Record<string, string>) => Promise<T>): Promise<T> => {
      const machine = await createBuildahSandbox(hub.host);
      try {
        return await use(machine.env);
      } finally {
        await machine.remove();
      }
    };

    it('reuses the dependency steps after an application change, and a commit gives one digest warm, cold, after other commits, and on a fresh runner', async () => {
      const first = await buildAndPushImage(options({ engine, registryCache: false }));
      expect(first.layerCache).toEqual({ reused: true, repository: `${target.host}/admin/changemaker-api-cache` });
      expect((await tagsOf(target, 'admin/changemaker-api-cache')).length).toBeGreaterThanOrEqual(3);

      await changeApplicationAndCommit();
      lines.length = 0;
      // Empty storage: the dependency steps come from the registry, the application step is built and exported.
      const freshRunner = await onCleanMachine((env) => buildAndPushImage(options({ engine, registryCache: false, env })));
      expect(lines.some((line) => /Cache pulled from remote/.test(line))).toBe(true);
      expect(cachedSteps()).toBeGreaterThanOrEqual(2);
      expect(freshRunner.digest).not.toBe(first.digest);

      lines.length = 0;
      // This machine's cache was left by the earlier commit; the registry's holds this commit's application step.
      const afterOtherCommits = await buildAndPushImage(options({ engine, registryCache: false }));
      expect(cachedSteps()).toBeGreaterThanOrEqual(3);
      expect(afterOtherCommits.digest).toBe(freshRunner.digest);

      const warm = await buildAndPushImage(options({ engine, registryCache: false }));
      expect(warm.digest).toBe(freshRunner.digest);

      // The labels naming the commit are written after the build: as steps they would miss the cache on every commit.
      const { stdout } = await execa('skopeo', ['inspect', '--tls-verify=false', '--config', `docker://${target.host}/admin/changemaker-api@${warm.digest}`]);
      const config = JSON.parse(stdout) as { created: string; config: { Labels: Record<string, string> }; history: Array<{ created_by: string }> };
      expect(config.config.Labels['org.opencontainers.image.revision']).toBe(warm.commit);
      expect(Date.parse(config.config.Labels['org.opencontainers.image.created'])).toBe(Date.parse('2030-01-01T00:00:00Z'));
      expect(config.created).toBe('2030-01-01T00:00:00Z');
      expect(config.history.map((entry) => entry.created_by).join('\n')).not.toMatch(/LABEL/);

      calls.length = 0;
      const cold = await onCleanMachine((env) => buildAndPushImage(options({ engine, registryCache: false, cache: false, env })));
      const coldBuild = engineCalls(engine).find((call) => call.args[0] === 'build');
      expect(coldBuild?.args).toContain('--no-cache');
      expect(coldBuild?.args).not.toContain('--cache-from');
      expect(cold.layerCache?.reused).toBe(false);
      expect(cold.digest).toBe(freshRunner.digest);
    });

    it('keeps the cache in the configured repository, and only warns when it cannot be exported', async () => {
      const readOnly = await startRegistry({ credentials: { username: 'other', password: 'not-given-to-the-build' } });
      try {
        const result = await buildAndPushImage(options({ engine, cacheRepository: `${readOnly.host}/team/build-cache` }));
        expect(result.built).toBe(true);
        expect(result.layerCache?.repository).toBe(`${readOnly.host}/team/build-cache`);
        expect(result.layerCache?.exportFailure).toMatch(/failed pushing cache/);
        expect(lines.join('\n')).toMatch(/warning: the layer cache was not exported to .*team\/build-cache/);
        expect(await tagsOf(target, 'admin/changemaker-api')).toHaveLength(3);
      } finally {
        await readOnly.stop();
      }
      const named = await buildAndPushImage(options({ engine, registryCache: false, cacheRepository: 'ci/layers' }));
      expect(named.layerCache).toEqual({ reused: true, repository: `${target.host}/admin/ci/layers` });
      expect((await tagsOf(target, 'admin/ci/layers')).length).toBeGreaterThanOrEqual(3);
    });
  });

  it('builds nothing when the registry already holds these inputs, and only adds the new tags', async () => {
    const first = await buildAndPushImage(options());
    await git(workspace, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '--allow-empty', '-m', 'second');
    const secondSha = await git(workspace, 'rev-parse', 'HEAD');
    calls.length = 0;
    const second = await buildAndPushImage(options());
    expect(second.built).toBe(false);
    expect(engineCalls()).toEqual([]);
    expect(second.digest).toBe(first.digest);
    expect(await tagsOf(target, 'admin/changemaker-api')).toContain(secondSha);
    expect(lines.join('\n')).toMatch(/already in the registry.*nothing built/);
  });

  it('a release below one already made (a fix for an older line) leaves latest where the newer release put it, and says so; the plan agrees', async () => {
    const commit = (message: string) => git(workspace, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '--allow-empty', '-m', message);
    const release = (version: string) => options({ tagPatterns: ['{sha}', 'latest', 'v{version}'], version });
    await git(workspace, 'tag', 'v1.0.0');
    await commit('feat: on main');
    await writeFile(join(workspace, 'dist/main.js'), 'console.log("hello, 1.1")\n');
    await git(workspace, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qam', 'chore(release): v1.1.0');
    const newer = await buildAndPushImage(release('1.1.0'));
    await git(workspace, 'tag', 'v1.1.0');
    // A pre-release above it moves nothing: latest names the newest stable release.
    await git(workspace, 'tag', 'v1.2.0-rc.1');
    await git(workspace, 'checkout', '-q', '-b', 'release/1.0', 'v1.0.0');
    await commit('fix: for the 1.0 line');
    lines.length = 0;
    const plan = await planImagePush(release('1.0.1'));
    expect(plan.references.map((reference) => reference.split(':').pop())).not.toContain('latest');
    const fix = await buildAndPushImage(release('1.0.1'));
    expect(fix.references.map((reference) => reference.split(':').pop())).toEqual([await git(workspace, 'rev-parse', 'HEAD'), 'v1.0.1']);
    expect(await digestOf(target, 'admin/changemaker-api', 'latest')).toBe(newer.digest);
    expect(await digestOf(target, 'admin/changemaker-api', 'v1.0.1')).toBe(fix.digest);
    const said = `${fix.image}: latest stays where it is: v1.1.0 is a newer release than 1.0.1, which fixes an older line`;
    expect(lines.filter((line) => line === said)).toHaveLength(2);
  });

  it('moves latest last, whatever the tag patterns\' order: a push refused on the commit\'s tag (quota) leaves latest where it was, and no inputs tag', async () => {
    const sha = await git(workspace, 'rev-parse', 'HEAD');
    const quota = JSON.stringify({ errors: [{ code: 'DENIED', message: 'quota exceeded' }] });
    const proxy = await startFaultProxy(target.host, [{ method: 'PUT', path: new RegExp(`/manifests/${sha}$`), fault: { kind: 'status', status: 403, body: quota }, times: 1_000 }]);
    try {
      await expect(buildAndPushImage(options({ registry: `${proxy.host}/admin`, tagPatterns: ['latest', '{sha}'] }))).rejects.toThrow(/quota exceeded/);
    } finally {
      await proxy.stop();
    }
    expect(await tagsOf(target, 'admin/changemaker-api')).toEqual([]);
  });

  it('does not reuse an image of another architecture found under the inputs tag: says so in one line, builds, and puts its own there', async () => {
    await writeFile(join(workspace, 'Dockerfile.scratch'), 'FROM scratch AS production\nCOPY main.js /app/\n');
    const scratch = { dockerfile: join(workspace, 'Dockerfile.scratch') };
    const inputsTag = await inputsTagFor(options(scratch));
    // What an arm64 laptop's docker-push left there (no emulation needed: nothing runs).
    const otherContext = join(workspace, 'other-architecture');
    await mkdir(otherContext);
    await writeFile(join(otherContext, 'Containerfile'), 'FROM scratch\nCOPY marker /marker\n');
    await writeFile(join(otherContext, 'marker'), 'arm64\n');
    await sandbox.buildah(['build', '--arch', 'arm64', '--tag', 'localhost/other-architecture', '--file', join(otherContext, 'Containerfile'), otherContext]);
    await sandbox.buildah(['push', '--tls-verify=false', 'localhost/other-architecture', `docker://${target.host}/admin/changemaker-api:${inputsTag}`]);
    const other = await digestOf(target, 'admin/changemaker-api', inputsTag);
    expect(hostPlatform()).not.toBe('linux/arm64');

    const result = await buildAndPushImage(options(scratch));
    expect(result).toMatchObject({ built: true, inputsTag });
    expect(result.digest).not.toBe(other);
    expect(lines.filter((line) => /not linux\//.test(line))).toEqual([
      `changemaker-api: the image for these inputs (${inputsTag.slice(0, 19)}…) is for linux/arm64, not ${hostPlatform()}; building instead`.replace('changemaker-api', result.image),
    ]);
    for (const tag of [inputsTag, result.commit, 'latest']) expect(await digestOf(target, 'admin/changemaker-api', tag)).toBe(result.digest);
    const { stdout } = await execa('skopeo', ['inspect', '--tls-verify=false', '--config', `docker://${target.host}/admin/changemaker-api:${inputsTag}`]);
    expect(`${JSON.parse(stdout).os}/${JSON.parse(stdout).architecture}`).toBe(hostPlatform());
  });

  it('does not keep an image under the inputs tag when the engine built for another platform than the hash names (docker with DOCKER_DEFAULT_PLATFORM)', async () => {
    await writeFile(join(workspace, 'Dockerfile.scratch'), 'FROM scratch AS production\nCOPY main.js /app/\n');
    const result = await buildAndPushImage(options({ engine: 'docker', dockerfile: join(workspace, 'Dockerfile.scratch'), env: { DOCKER_DEFAULT_PLATFORM: 'linux/arm64' } }));
    expect(result.built).toBe(true);
    expect(lines).toContain(`${result.image}: warning: the image for these inputs (${result.inputsTag.slice(0, 19)}…) is for linux/arm64, not ${hostPlatform()}; not kept under that tag`);
    expect(await digestOf(target, 'admin/changemaker-api', result.commit)).toBe(result.digest);
    expect(await digestOf(target, 'admin/changemaker-api', result.inputsTag)).toBeNull();
  });

  async function digestOf(registry: TestRegistry, repository: string, reference: string): Promise<string | null> {
    const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json';
    const response = await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, { method: 'HEAD', headers: { accept } });
    return response.ok ? response.headers.get('docker-content-digest') : null;
  }

  it.each(['buildah', 'podman', 'docker'])("%s leaves out what the Dockerfile's own <Dockerfile>.dockerignore excludes, and a change to an ignored file rebuilds nothing", async (engine) => {
    // The Dockerfile is in the workspace, its context is dist/: the context has no .dockerignore.
    await writeFile(join(workspace, 'Dockerfile.dockerignore'), '*.md\nsecret.txt\n');
    await writeFile(join(workspace, 'dist/README.md'), 'docs\n');
    await writeFile(join(workspace, 'dist/secret.txt'), 'not for the image\n');
    const result = await buildAndPushImage(options({ engine }));
    expect(result.built).toBe(true);
    expect(await filesUnder(target, 'admin/changemaker-api', result.digest!, 'app/')).toEqual(['app/main.js']);

    await writeFile(join(workspace, 'dist/README.md'), 'docs, reworded\n');
    const afterReadmeChange = await buildAndPushImage(options({ engine }));
    expect(afterReadmeChange).toMatchObject({ built: false, digest: result.digest });
  });

  it.each(['buildah', 'podman', 'docker'])('%s matches ignore patterns case-sensitively: a change to readme.md, which README.md does not leave out, builds again', async (engine) => {
    await writeFile(join(workspace, 'Dockerfile.dockerignore'), 'README.md\n');
    await writeFile(join(workspace, 'dist/README.md'), 'docs\n');
    await writeFile(join(workspace, 'dist/readme.md'), 'served\n');
    const result = await buildAndPushImage(options({ engine }));
    expect(await filesUnder(target, 'admin/changemaker-api', result.digest!, 'app/')).toEqual(['app/main.js', 'app/readme.md']);

    await writeFile(join(workspace, 'dist/readme.md'), 'served, reworded\n');
    const afterChange = await buildAndPushImage(options({ engine }));
    expect(afterChange.built).toBe(true);
    expect(afterChange.digest).not.toBe(result.digest);
  });

  it.each(['buildah', 'podman', 'docker'])("%s reads the context's .dockerignore, not a .containerignore beside it, which docker never reads", async (engine) => {
    await writeFile(join(workspace, 'dist/.dockerignore'), 'secret.txt\n');
    await writeFile(join(workspace, 'dist/.containerignore'), 'main.js\n');
    await writeFile(join(workspace, 'dist/secret.txt'), 'not for the image\n');
    const result = await buildAndPushImage(options({ engine }));
    expect(await filesUnder(target, 'admin/changemaker-api', result.digest!, 'app/')).toEqual(['app/.containerignore', 'app/.dockerignore', 'app/main.js']);
  });

  /** The files (not directories) under a path in an image's layers. */
  async function filesUnder(registry: TestRegistry, repository: string, digest: string, prefix: string): Promise<string[]> {
    const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
    const manifest = (await (await fetch(`${registry.url}/v2/${repository}/manifests/${digest}`, { headers: { accept } })).json()) as { layers: Array<{ digest: string }> };
    const files: string[] = [];
    for (const layer of manifest.layers) {
      const blob = join(workspace, 'layer.tar');
      await writeFile(blob, Buffer.from(await (await fetch(`${registry.url}/v2/${repository}/blobs/${layer.digest}`)).arrayBuffer()));
      const { stdout } = await execa('tar', ['-tvf', blob]);
      for (const line of stdout.split('\n')) {
        const name = line.split(/\s+/).slice(5).join(' ').replace(/^\.\//, '');
        if (line.startsWith('-') && name.startsWith(prefix)) files.push(name);
      }
    }
    return files.sort();
  }

  it('builds again when the cache is turned off or an input changed', async () => {
    await buildAndPushImage(options());
    calls.length = 0;
    expect((await buildAndPushImage(options({ registryCache: false }))).built).toBe(true);
    await writeFile(join(workspace, 'dist/main.js'), 'console.log("changed")\n');
    expect((await buildAndPushImage(options())).built).toBe(true);
    expect(engineCalls().filter((call) => call.args[0] === 'build')).toHaveLength(2);
  });

  it.each(['buildah', 'podman', 'docker'])('a rebuild with %s and the lookup off is built on the base image the registry holds now, and becomes the image later runs reuse', async (engine) => {
    const baseContext = join(workspace, 'patched-base');
    await mkdir(baseContext);
    await writeFile(join(baseContext, 'Containerfile'), 'FROM scratch\nCOPY marker /marker\n');
    const base = `library/patched-base-${engine}`;
    const publishBase = async (marker: string): Promise<string> => {
      await writeFile(join(baseContext, 'marker'), `${marker}\n`);
      await sandbox.buildah(['build', '--timestamp', '0', '--tag', 'localhost/patched-base', '--file', join(baseContext, 'Containerfile'), baseContext]);
      await sandbox.buildah(['push', '--tls-verify=false', 'localhost/patched-base', `docker://${hub.host}/${base}:1`]);
      return (await diffIdsOf(hub, base, '1'))[0]!;
    };
    await writeFile(join(workspace, 'Dockerfile.patched'), `FROM ${base.slice('library/'.length)}:1 AS production\nCOPY . /app/\n`);
    const patched = { engine, dockerfile: join(workspace, 'Dockerfile.patched') };

    const oldBase = await publishBase('before the security fix');
    const before = await buildAndPushImage(options(patched));
    expect((await diffIdsOf(target, 'admin/changemaker-api', before.digest!))[0]).toBe(oldBase);
    const fixedBase = await publishBase('after the security fix');
    const rebuilt = await buildAndPushImage(options({ ...patched, registryCache: false }));
    expect(rebuilt.built).toBe(true);
    expect((await diffIdsOf(target, 'admin/changemaker-api', rebuilt.digest!))[0]).toBe(fixedBase);

    await git(workspace, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '--allow-empty', '-m', 'release');
    const release = await buildAndPushImage(options(patched));
    expect(release.built).toBe(false);
    expect(release.digest).toBe(rebuilt.digest);
  });

  /** An image's layers by their uncompressed digests (config rootfs.diff_ids), which no recompression changes. */
  async function diffIdsOf(registry: TestRegistry, repository: string, reference: string): Promise<string[]> {
    const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
    const manifest = (await (await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, { headers: { accept } })).json()) as { config: { digest: string } };
    return ((await (await fetch(`${registry.url}/v2/${repository}/blobs/${manifest.config.digest}`)).json()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
  }

  // Files copied by a stage that runs no command carry the time of the image already under the
  // inputs; a stage that runs one has layers stamped with a fixed time (layer-cache.ts).
  it.each([
    ['only copies files', 'FROM node:20-bookworm-slim AS production\nCOPY . /app/\nCMD ["node", "/app/main.js"]\n'],
    ['runs a command', 'FROM node:20-bookworm-slim AS production\nRUN echo dependencies > /deps\nCOPY . /app/\n'],
  ])('a rebuild with the lookup off at a later commit of an image whose stage %s keeps the image under its inputs when it holds the same', async (_kind, dockerfile) => {
    await writeFile(join(workspace, 'Dockerfile.rebuilt'), dockerfile);
    const rebuiltImage = { dockerfile: join(workspace, 'Dockerfile.rebuilt') };
    const first = await buildAndPushImage(options(rebuiltImage));
    await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '--allow-empty', '-m', 'weekly rebuild'], {
      cwd: workspace,
      env: { GIT_COMMITTER_DATE: '2030-01-01T00:00:00Z' },
    });
    const laterSha = await git(workspace, 'rev-parse', 'HEAD');
    const rebuilt = await buildAndPushImage(options({ ...rebuiltImage, registryCache: false }));
    expect(rebuilt.built).toBe(true);
    expect(rebuilt.digest).toBe(first.digest);
    const head = await fetch(`${target.url}/v2/admin/changemaker-api/manifests/${laterSha}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
    expect(head.headers.get('docker-content-digest')).toBe(first.digest);
    expect(lines.join('\n')).toMatch(/rebuilt into what the image already under these inputs holds .*kept that one/);
  });

  it.each(['buildah', 'podman'])('builds several platforms into one manifest list under every tag with %s', async (engine) => {
    const baseContext = join(workspace, 'multi-base');
    await mkdir(baseContext);
    await writeFile(join(baseContext, 'Containerfile'), 'FROM scratch\nCOPY marker /marker\n');
    await writeFile(join(baseContext, 'marker'), 'base\n');
    const baseList = `localhost/multi-base-for-${engine}`;
    await sandbox.buildah(['build', '--platform', 'linux/amd64,linux/arm64', '--manifest', baseList, '--file', join(baseContext, 'Containerfile'), baseContext]);
    await sandbox.buildah(['manifest', 'push', '--all', '--tls-verify=false', baseList, `docker://${hub.host}/library/multi-base:1`]);
    await writeFile(join(workspace, 'Dockerfile.multi'), 'FROM multi-base:1 AS production\nCOPY . /app/\n');
    const multi = { engine, dockerfile: join(workspace, 'Dockerfile.multi'), platforms: ['linux/amd64', 'linux/arm64'] };

    const first = await buildAndPushImage(options(multi));
    // A second build of the same commit must not add to the first one's list: it is the same list, every platform's config included.
    const result = await buildAndPushImage(options({ ...multi, registryCache: false }));
    expect(result.digest).toBe(first.digest);

    const index = await fetch(`${target.url}/v2/admin/changemaker-api/manifests/latest`, {
      headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' },
    });
    const list = (await index.json()) as { manifests: Array<{ platform: { architecture: string } }> };
    expect(list.manifests.map((manifest) => manifest.platform.architecture).sort()).toEqual(['amd64', 'arm64']);
    expect(result.digest).toBe(index.headers.get('docker-content-digest'));
    const commitTag = await fetch(`${target.url}/v2/admin/changemaker-api/manifests/${result.commit}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' },
    });
    expect(commitTag.headers.get('docker-content-digest')).toBe(result.digest);
  });

  describe('with a registry that needs a login', () => {
    const credentials = { username: 'ci', password: 'S3cret-registry-password' };
    let secured: TestRegistry;
    beforeEach(async () => {
      secured = await startRegistry({ credentials });
    });
    afterEach(() => secured.stop());

    const securedOptions = (password: string, engine = 'buildah', env: Record<string, string> = {}) =>
      options({
        engine,
        registry: `${secured.host}/admin`,
        env: { GITEA_REGISTRY: `${secured.host}/admin`, GITEA_REGISTRY_USER: credentials.username, GITEA_REGISTRY_PASSWORD: password, ...env },
      });
    const basic = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;

    it.each(['buildah', 'podman', 'docker'])('hands the password to %s on stdin or in its private auth file only, never in arguments or output', async (engine) => {
      // A RUN step, so buildah and podman read and write the registry-backed cache with the login
      // (the test dockerd has no bridge network to run a step in).
      if (engine !== 'docker') await writeFile(join(workspace, 'Dockerfile'), 'FROM node:20-bookworm-slim AS production\nCOPY . /app/\nRUN ls /app > /app/listing.txt\n');
      const result = await buildAndPushImage(securedOptions(credentials.password, engine));
      expect(result).toMatchObject({ built: true, engine });
      expect(await tagsOf(secured, 'admin/changemaker-api', basic)).toHaveLength(3);
      for (const call of calls) expect(call.args.join(' ')).not.toContain(credentials.password);
      // buildah and podman log in on stdin; docker's private config gets the login written in (docker-engine.ts).
      expect(calls.filter((call) => call.args.includes('login')).map((call) => call.input)).toEqual(engine === 'docker' ? [] : [credentials.password]);
      expect(lines.join('\n')).not.toContain(credentials.password);
      if (engine === 'docker') return;
      await expectCacheWithoutSecrets(secured, basic, [credentials.password, basic]);

      // A fresh runner reads the cache with the same login.
      lines.length = 0;
      const machine = await createBuildahSandbox(hub.host);
      try {
        const fresh = await buildAndPushImage({ ...securedOptions(credentials.password, engine, machine.env), registryCache: false });
        expect(fresh.digest).toBe(result.digest);
      } finally {
        await machine.remove();
      }
      expect(lines.some((line) => /Cache pulled from remote/.test(line))).toBe(true);
      for (const call of calls) expect(call.args.join(' ')).not.toContain(credentials.password);
      expect(lines.join('\n')).not.toContain(credentials.password);
    });

    it("docker keeps the password out of the user's keychain: a credential helper on PATH (secretservice, pass) never stores it", async () => {
      // docker's CLI, given a config directory holding no login, saves a login in the platform's
      // default credential helper when one is installed: the keychain would keep the password for
      // good, over the user's own login for that registry. A stand-in helper writes down each call.
      const helpers = join(workspace, 'credential-helpers');
      const helperLog = join(workspace, 'helper.log');
      await mkdir(helpers);
      await writeFile(join(helpers, 'docker-credential-secretservice'), `#!/bin/sh\necho "$1 $(cat)" >> ${helperLog}\n[ "$1" = get ] && { echo "credentials not found in native keychain"; exit 1; }\nexit 0\n`, { mode: 0o755 });
      const result = await buildAndPushImage(securedOptions(credentials.password, 'docker', { PATH: `${helpers}:${debianDockerClientFirst}` }));
      expect(result).toMatchObject({ built: true, engine: 'docker' });
      expect(await tagsOf(secured, 'admin/changemaker-api', basic)).toHaveLength(3);
      const helperCalls = await readFile(helperLog, 'utf8').catch(() => '');
      expect(helperCalls).not.toContain(credentials.password);
      expect(helperCalls).not.toMatch(/^store/m);
    });

    /** Every manifest and config the registry-backed cache holds, searched for the secrets. */
    async function expectCacheWithoutSecrets(registry: TestRegistry, authorization: string, secrets: string[]): Promise<void> {
      const tags = await tagsOf(registry, 'admin/changemaker-api-cache', authorization);
      expect(tags.length).toBeGreaterThan(0);
      const accept = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json';
      for (const tag of tags) {
        const manifest = await (await fetch(`${registry.url}/v2/admin/changemaker-api-cache/manifests/${tag}`, { headers: { authorization, accept } })).text();
        const { config } = JSON.parse(manifest) as { config: { digest: string } };
        const configText = await (await fetch(`${registry.url}/v2/admin/changemaker-api-cache/blobs/${config.digest}`, { headers: { authorization } })).text();
        for (const secret of secrets) expect(`${manifest}${configText}`).not.toContain(secret);
      }
    }

    it.each(['buildah', 'podman'])('%s pulls a base image with the login the user gave its registry, though the layer cache needs a private auth file', async (engine) => {
      const baseCredentials = { username: 'base', password: 'Base-registry-pass' };
      const privateBase = await startRegistry({ credentials: baseCredentials });
      try {
        const userAuthFile = join(workspace, 'user-auth.json');
        const auth = Buffer.from(`${baseCredentials.username}:${baseCredentials.password}`).toString('base64');
        await writeFile(userAuthFile, JSON.stringify({ auths: { [privateBase.host]: { auth } } }));
        await sandbox.buildah(['push', '--authfile', userAuthFile, '--tls-verify=false', 'localhost/stand-in-busybox:latest', `docker://${privateBase.host}/base/busybox:1`]);
        await writeFile(join(workspace, 'Dockerfile'), `FROM ${privateBase.host}/base/busybox:1 AS production\nCOPY . /app/\nRUN ls /app > /app/listing.txt\n`);
        const result = await buildAndPushImage(securedOptions(credentials.password, engine, { REGISTRY_AUTH_FILE: userAuthFile }));
        expect(result).toMatchObject({ built: true, layerCache: { repository: `${secured.host}/admin/changemaker-api-cache` } });
        for (const call of calls) expect(call.args.join(' ')).not.toContain(baseCredentials.password);
      } finally {
        await privateBase.stop();
      }
    });

    it.each(['buildah', 'podman', 'docker'])('%s pulls a base image kept in the push registry with the push login, also when the build has no layer cache (no RUN step)', async (engine) => {
      // The mirrored base images live beside the service images, and GITEA_REGISTRY_USER is the only login for them.
      const publisher = join(workspace, 'publisher-auth.json');
      await writeFile(publisher, JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64') } } }));
      await sandbox.buildah(['push', '--authfile', publisher, '--tls-verify=false', 'localhost/stand-in-busybox:latest', `docker://${secured.host}/admin/busybox:1`]);
      await writeFile(join(workspace, 'Dockerfile'), `FROM ${secured.host}/admin/busybox:1 AS production\nCOPY . /app/\n`);
      const result = await buildAndPushImage(securedOptions(credentials.password, engine, { CONTAINERS_REGISTRIES_CONF: await plainHttpRegistriesConf(secured.host) }));
      expect(result).toMatchObject({ built: true, engine });
      expect(result.layerCache).toBeUndefined();
      for (const call of calls) expect(call.args.join(' ')).not.toContain(credentials.password);
    });

    it("docker pulls a base image with the login the user keeps in a credential store, while the push registry's login is the push's own", async () => {
      const baseCredentials = { username: 'base', password: 'Base-registry-pass' };
      const privateBase = await startRegistry({ credentials: baseCredentials });
      try {
        const baseAuth = Buffer.from(`${baseCredentials.username}:${baseCredentials.password}`).toString('base64');
        const seeding = join(workspace, 'seeding-auth.json');
        await writeFile(seeding, JSON.stringify({ auths: { [privateBase.host]: { auth: baseAuth } } }));
        await sandbox.buildah(['push', '--authfile', seeding, '--tls-verify=false', 'localhost/stand-in-busybox:latest', `docker://${privateBase.host}/base/busybox:1`]);
        await writeFile(join(workspace, 'Dockerfile'), `FROM ${privateBase.host}/base/busybox:1 AS production\nCOPY . /app/\n`);
        // The user's docker config names a store (as Docker Desktop's or pass do) holding the base registry's login only.
        const helpers = join(workspace, 'credential-helpers');
        const helperLog = join(workspace, 'helper.log');
        await mkdir(helpers);
        const stored = JSON.stringify({ ServerURL: privateBase.host, Username: baseCredentials.username, Secret: baseCredentials.password });
        await writeFile(
          join(helpers, 'docker-credential-teststore'),
          `#!/bin/sh\ninput=$(cat)\necho "$1 $input" >> ${helperLog}\ncase "$1" in\n  get) [ "$input" = "${privateBase.host}" ] && { echo '${stored}'; exit 0; }; echo "credentials not found in native keychain"; exit 1 ;;\n  list) echo '{"${privateBase.host}":"${baseCredentials.username}"}' ;;\nesac\n`,
          { mode: 0o755 },
        );
        const dockerConfig = join(workspace, 'docker-config');
        await mkdir(dockerConfig);
        await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [privateBase.host]: {} }, credsStore: 'teststore' }));
        const result = await buildAndPushImage(securedOptions(credentials.password, 'docker', { PATH: `${helpers}:${debianDockerClientFirst}`, DOCKER_CONFIG: dockerConfig }));
        expect(result).toMatchObject({ built: true, engine: 'docker' });
        expect(await tagsOf(secured, 'admin/changemaker-api', basic)).toHaveLength(3);
        expect(await readFile(helperLog, 'utf8')).not.toMatch(/^store/m);
      } finally {
        await privateBase.stop();
      }
    });

    /** The sandbox's registries.conf with these loopback registries on plain http, as no cache step turns TLS off for them. */
    async function plainHttpRegistriesConf(...hosts: string[]): Promise<string> {
      const file = join(workspace, 'registries.conf');
      const insecure = hosts.map((host) => `[[registry]]\nlocation = "${host}"\ninsecure = true\n`).join('');
      await writeFile(file, `${await readFile(sandbox.env.CONTAINERS_REGISTRIES_CONF, 'utf8')}${insecure}`);
      return file;
    }

    it.each(['buildah', 'docker'])('stops on a rejected login before building with %s, naming the registry and not the password', async (engine) => {
      const failure = buildAndPushImage(securedOptions('wrong-password', engine));
      await expect(failure).rejects.toThrow(secured.host);
      await expect(failure).rejects.not.toThrow('wrong-password');
      expect(engineCalls(engine)).toEqual([]);
      expect(await tagsOf(secured, 'admin/changemaker-api', basic)).toEqual([]);
    });
  });

  describe('with an identity token from `docker login` in the docker config', () => {
    const identityToken = 'idt-refresh-7f3a9c51e2';
    let tokens: TokenServer;
    let tokenRegistry: TestRegistry;
    beforeEach(async () => {
      tokens = await startTokenServer({ credentials: { username: 'ci', password: 'never-used-here' }, identityToken });
      tokenRegistry = await startRegistry({ authConfig: tokens.registryAuthConfig });
    });
    afterEach(async () => {
      await tokenRegistry.stop();
      await tokens.stop();
    });

    it.each(['buildah', 'podman', 'docker'])('%s pushes with it, exchanged by OAuth2 only, never in arguments, output or URLs', async (engine) => {
      const dockerConfig = join(workspace, 'docker-config');
      await mkdir(dockerConfig);
      await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [tokenRegistry.host]: { identitytoken: identityToken } } }));
      const result = await buildAndPushImage(options({ engine, registry: `${tokenRegistry.host}/admin`, env: { DOCKER_CONFIG: dockerConfig } }));

      // Anonymous callers get pull access only, so the engine's push went through on the exchanged token.
      expect(result).toMatchObject({ built: true, engine });
      // containers/image names itself in the exchange; docker's daemon says `docker`, as libs/oci does.
      expect(tokens.requests.map((request) => request.clientId)).toContain(engine === 'docker' ? 'docker' : 'containers/image');
      for (const request of tokens.requests) {
        expect(request).toMatchObject({ user: 'ci', method: 'POST', grantType: 'refresh_token' });
        expect(request.target).not.toContain(identityToken);
      }
      const reader = new RegistryClient({ credentials: async () => ({ identityToken }) });
      const repository = ImageReference.parse(result.image);
      for (const tag of [result.commit, 'latest', result.inputsTag]) expect((await reader.headManifest(repository.withTag(tag)))?.digest).toBe(result.digest);
      await reader.close();
      for (const call of calls) expect(`${call.args.join(' ')} ${call.input ?? ''}`).not.toContain(identityToken);
      expect(lines.join('\n')).not.toContain(identityToken);
    });
  });

  describe('refuses bad input with one line and pushes nothing', () => {
    const expectRefusal = async (overrides: Partial<ImageBuildOptions>, message: RegExp) => {
      const failure = buildAndPushImage(options(overrides));
      await expect(failure).rejects.toThrow(message);
      const error = (await failure.catch((caught: unknown) => caught)) as Error;
      expect(error.message).not.toContain('\n');
      expect(engineCalls().filter((call) => call.args[0] === 'build' || call.args[0] === 'push')).toEqual([]);
      expect(await tagsOf(target, 'admin/changemaker-api')).toEqual([]);
    };

    it('a missing Dockerfile', () => expectRefusal({ dockerfile: join(workspace, 'nope/Dockerfile') }, /Dockerfile not found at .*nope\/Dockerfile/));
    it('an unknown engine', () => expectRefusal({ engine: 'kaniko' }, /unknown container engine "kaniko": use one of docker, podman, buildah/));
    it('a chosen engine that is not installed', async () => {
      const withoutPodman = await commandsDirectory('git', 'buildah');
      await expectRefusal({ env: { PATH: withoutPodman }, engine: 'podman' }, /"podman" was chosen but is not usable/);
    });
    it('a chosen docker whose daemon does not answer', () =>
      expectRefusal({ engine: 'docker', env: { DOCKER_HOST: `unix://${join(workspace, 'no-daemon.sock')}` } }, /"docker" was chosen but is not usable on this machine \(Cannot connect to the Docker daemon at .*no-daemon\.sock\. Is the docker daemon running\?\): install docker and start its daemon/));
    (clientNeedingBuildx ? it : it.skip)(`a docker client that has BuildKit only through the missing buildx plugin (${clientNeedingBuildx})`, () =>
      expectRefusal({ engine: 'docker', env: { PATH: `${dirname(clientNeedingBuildx ?? '')}:${process.env['PATH']}` } }, /this docker client needs the buildx plugin/));
    it('a chosen docker whose daemon takes the connection and never answers (hung): stopped after 10 s, not waited for', async () => {
      const daemon = await startHungDaemon();
      try {
        await expectRefusal({ engine: 'docker', env: { DOCKER_HOST: `tcp://${daemon.host}` } }, /"docker" was chosen but is not usable on this machine \(docker did not answer within 10 s and was stopped\)/);
      } finally {
        await daemon.stop();
      }
    }, 30_000);
    it('several platforms with docker but no buildx', () =>
      expectRefusal({ engine: 'docker', platforms: ['linux/amd64', 'linux/arm64'] }, /docker cannot build for several platforms here: docker buildx is not installed/));
    it('an unreachable registry', async () => {
      const closed = await startRegistry();
      await closed.stop();
      await expectRefusal({ registry: `${closed.host}/admin` }, new RegExp(`registry ${closed.host.replace(/\./g, '\\.')} is unreachable`));
    });
    it('a containers auth file that is not JSON, when a build with the layer cache needs its logins', async () => {
      await writeFile(join(workspace, 'Dockerfile'), 'FROM node:20-bookworm-slim AS production\nCOPY . /app/\nRUN ls /app > /app/listing.txt\n');
      await writeFile(join(workspace, 'broken-auth.json'), '{"auths": {');
      await expectRefusal({ env: { REGISTRY_AUTH_FILE: join(workspace, 'broken-auth.json') } }, /the containers auth file .*broken-auth\.json is not JSON with an "auths" object: fix it/);
    });
    it('an invalid tag pattern', () => expectRefusal({ tagPatterns: ['{sha}', '{commit}'] }, /invalid tag pattern "\{commit\}": unknown placeholder/));
    it('a tag pattern producing an invalid tag', () => expectRefusal({ tagPatterns: ['release/{shortSha}'] }, /produced "release\/[0-9a-f]{7}", which is not a valid image tag/));

    it('no engine installed at all', async () => {
      const onlyGit = await commandsDirectory('git');
      await expectRefusal({ env: { PATH: onlyGit }, engine: 'auto', registryCache: false, push: false }, /no container engine found \(tried docker, podman, buildah\)/);
    });
  });

  it('a dry run (planImagePush) asks a registry that answers 503 once, and says it could not check, building and pushing nothing', async () => {
    const proxy = await startFaultProxy(target.host, [{ path: /\/manifests\//, fault: { kind: 'status', status: 503 }, times: 1_000 }]);
    try {
      const plan = await planImagePush(options({ registry: `${proxy.host}/admin` }));
      expect(plan).toMatchObject({ action: 'unknown', reason: expect.stringContaining('could not ask the registry') });
      expect(proxy.requests.filter((request) => request.path.includes('/manifests/'))).toHaveLength(1);
      expect(engineCalls().filter((call) => call.args[0] === 'build' || call.args[0] === 'push')).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  describe('detects the engine: docker when its daemon answers, then podman, then buildah', () => {
    const detected = async (env: Record<string, string>) => (await buildAndPushImage(options({ engine: 'auto', push: false, env }))).engine;
    const noDaemon = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

    it('docker with a daemon', async () => expect(await detected({ ...dockerDaemon.env, PATH: debianDockerClientFirst })).toBe('docker'));
    it('podman when no docker daemon answers', async () => expect(await detected(noDaemon)).toBe('podman'));
    it('podman when the docker daemon hangs', async () => {
      const daemon = await startHungDaemon();
      try {
        expect(await detected({ DOCKER_HOST: `tcp://${daemon.host}` })).toBe('podman');
      } finally {
        await daemon.stop();
      }
    }, 30_000);
    (clientNeedingBuildx ? it : it.skip)('podman when the docker whose daemon answers cannot build: a client of 23 or later without buildx', async () =>
      expect(await detected({ ...dockerDaemon.env, PATH: `${dirname(clientNeedingBuildx ?? '')}:${process.env['PATH']}` })).toBe('podman'));
    it('buildah when podman is not installed either', async () =>
      expect(await detected({ ...noDaemon, PATH: await commandsDirectory('git', 'docker', 'buildah') })).toBe('buildah'));
  });

  /** A docker daemon that takes connections and never answers, as a hung one does. */
  async function startHungDaemon(): Promise<{ host: string; stop: () => Promise<void> }> {
    const connections = new Set<Socket>();
    const server = createServer((socket) => connections.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const stop = async () => {
      for (const socket of connections) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    };
    return { host: `127.0.0.1:${port}`, stop };
  }

  /** A PATH holding only these commands. */
  async function commandsDirectory(...commands: string[]): Promise<string> {
    const directory = join(workspace, `only-${commands.join('-')}`);
    await mkdir(directory);
    for (const command of commands) await symlink(await commandPath(command), join(directory, command));
    return directory;
  }
});
