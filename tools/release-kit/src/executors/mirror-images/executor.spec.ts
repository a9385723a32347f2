import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { ExecutorContext, ProjectConfiguration } from '@nx/devkit';
import { copyImage, ImageReference, ociLayoutImage, RegistryClient, registryImage } from '@changemaker/oci';
import { skopeoManifestDigest, startFaultProxy, startRegistry, writeSyntheticImages, type FaultProxy, type TestRegistry, type WrittenImage } from '@changemaker/testing';
import runExecutor from './executor';
import type { MirrorImagesOptions } from './schema';
import { executorNamed } from '../../executor-names';

const credentials = { username: 'mirror-bot', password: 'pa55-word-that-must-not-leak' };

/** Every file a registry stores, by path, with its size and modification time: what a run that writes nothing leaves as it was. */
async function storageSnapshot(root: string): Promise<Record<string, string>> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  return Object.fromEntries(await Promise.all(files.map(async (file) => {
    const info = await stat(file);
    return [relative(root, file), `${info.size} ${info.mtimeMs}`] as const;
  })));
}

interface Run {
  success: boolean;
  stdout: string;
  stderr: string;
}

describe('mirror-images executor', () => {
  let source: TestRegistry;
  let target: TestRegistry;
  let sourceProxy: FaultProxy;
  let targetProxy: FaultProxy;
  let dir: string;
  let images: Record<string, WrittenImage>;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-mirror-exec-'));
    [source, target] = await Promise.all([startRegistry(), startRegistry({ credentials })]);
    [sourceProxy, targetProxy] = await Promise.all([startFaultProxy(source.host), startFaultProxy(target.host)]);
    const written = await writeSyntheticImages(join(dir, 'layout'), [
      { tag: 'alpha', kind: 'oci-index', platforms: ['linux/amd64', 'linux/arm64'], layers: [{ seed: 'base', size: 400_000 }, { seed: 'a-{platform}', size: 50_000 }], attestation: true },
      { tag: 'beta', kind: 'docker-list', platforms: ['linux/amd64', 'linux/arm64'], layers: [{ seed: 'base', size: 400_000 }, { seed: 'b-{platform}', size: 50_000 }] },
      { tag: 'gamma', kind: 'single', platforms: ['linux/amd64'], layers: [{ seed: 'base', size: 400_000 }] },
    ]);
    images = Object.fromEntries(written.map((image) => [image.tag, image]));
    const pusher = new RegistryClient({ credentials: {} });
    for (const image of written) {
      await copyImage(ociLayoutImage(join(dir, 'layout'), image.tag), registryImage(pusher, ImageReference.parse(`${source.host}/upstream/${image.tag}:1.0`)));
    }
    const src = (name: string) => `${sourceProxy.host}/upstream/${name}:1.0`;
    await writeFile(join(dir, 'mirror.json'), JSON.stringify({
      groups: {
        core: { images: [{ source: src('alpha'), target: 'alpha:1.0' }] },
        platform: { images: [{ source: src('beta'), target: 'beta:1.0' }, { source: src('nonexistent'), target: 'nonexistent:1.0' }] },
        monitoring: { images: [{ source: src('gamma'), target: 'gamma:1.0' }] },
      },
    }, null, 2));
    await writeFile(join(dir, 'broken.json'), `{\n  "groups": {\n    "core": {\n      "images": [\n        { "source": "${src('alpha')}", "taget": "alpha:1.0" }\n      ]\n    }\n  }\n}\n`);
    await writeFile(join(dir, 'bad-lock.json'), JSON.stringify({ groups: { core: { images: [{ source: src('alpha'), target: 'alpha:1.0' }] } } }));
    await writeFile(join(dir, 'bad-lock.lock.json'), '{ "lockfileVersion": 1, "images": {');
    await writeFile(join(dir, 'clash.json'), JSON.stringify({ groups: { core: { images: [{ source: src('alpha'), target: 'same:1.0' }, { source: src('gamma'), target: 'same:2.0' }] } } }, null, 2));
  });
  afterAll(async () => {
    process.env = savedEnv;
    await Promise.all([sourceProxy?.stop(), targetProxy?.stop()]);
    await Promise.all([source?.stop(), target?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    // Credentials reach the executor the way CI gives them: env, never options.
    process.env = { ...savedEnv, GITEA_REGISTRY: `${targetProxy.host}/admin`, GITEA_REGISTRY_USER: credentials.username, GITEA_REGISTRY_PASSWORD: credentials.password, DOCKER_CONFIG: join(dir, 'no-docker-config') };
    sourceProxy.requests.length = 0;
    targetProxy.requests.length = 0;
  });

  async function run(options: MirrorImagesOptions, project?: ProjectConfiguration): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void out.push(String(line)));
    const error = jest.spyOn(console, 'error').mockImplementation((line: unknown) => void err.push(String(line)));
    try {
      const projectsConfigurations = project ? { version: 2, projects: { docker: project } } : undefined;
      const context = { root: dir, cwd: dir, isVerbose: false, projectName: 'docker', targetName: 'mirror-images', projectsConfigurations } as unknown as ExecutorContext;
      const { success } = await runExecutor({ manifest: 'mirror.json', ...options }, context);
      return { success, stdout: out.join('\n'), stderr: err.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  }

  const targetDigest = (name: string) => skopeoManifestDigest(`docker://${target.host}/admin/${name}:1.0`, { registry: target.host, credentials });

  it.each([
    ['--dry-run', { dryRun: true }, {}],
    ['NX_DRY_RUN, as nx release publish --dry-run sets it', {}, { NX_DRY_RUN: 'true' }],
  ])('dry run (%s): resolves by HEAD, lists what would be copied and what cannot be checked, writes nothing', async (_how, options: MirrorImagesOptions, env: Record<string, string>) => {
    Object.assign(process.env, env);
    const result = await run(options);
    expect(result.success).toBe(false);
    expect(result.stdout).toMatch(/would copy\s+core: .*\/admin\/alpha:1\.0/);
    expect(result.stdout).toMatch(/UNCHECKED\s+platform: .*\/admin\/nonexistent:1\.0 .*nonexistent:1\.0 does not exist/);
    expect(result.stdout).toContain('dry run against');
    expect(targetProxy.requests.filter((r) => r.method !== 'HEAD')).toEqual([]);
    expect(sourceProxy.requests.filter((r) => r.method !== 'HEAD')).toEqual([]);
  });

  it("mirrors into the registry the product's release looks in: the plugin's registry option, which its release target carries, before GITEA_REGISTRY", async () => {
    const product: ProjectConfiguration = { root: 'docker', targets: { 'nx-release-publish': { executor: executorNamed('release-product'), options: { registry: `${targetProxy.host}/team` } } } };
    const result = await run({ dryRun: true }, product);
    expect(result.stdout).toMatch(/would copy\s+core: \S+\/team\/alpha:1\.0/);
    expect(result.stdout).not.toMatch(/\/admin\/alpha:1\.0/);
    expect(targetProxy.requests.filter((r) => r.method !== 'HEAD')).toEqual([]);
  });

  it('mirrors every image of a list with no schema beside it, digests unchanged; an unknown image fails alone and is named', async () => {
    const result = await run({ concurrency: 2 });
    expect(result.success).toBe(false);
    for (const name of ['alpha', 'beta', 'gamma']) {
      expect(result.stdout).toMatch(new RegExp(`copied\\s+\\w+: \\S+/admin/${name}:1\\.0`));
      expect(await targetDigest(name)).toBe(images[name].digest);
    }
    expect(result.stdout).toMatch(/FAILED\s+platform: \S+\/admin\/nonexistent:1\.0\s+<- \S+nonexistent:1\.0: mirror\.json:\d+: manifest unknown: .* check the pin: the tag may be misspelt or removed upstream/);
    expect(result.stdout).toMatch(/^group\s+images\s+copied\s+replaced\s+current\s+moved\s+occupied\s+failed\s+bytes$/m);
    expect(result.stdout).toMatch(/^total\s+4\s+3\s+0\s+0\s+0\s+0\s+1\s/m);
    expect(result.stdout).toContain('1 of 4 images failed (3 copied, 0 replaced, 0 already current): ');
    expect(`${result.stdout}${result.stderr}`).not.toContain(credentials.password);
  });

  it('a re-run with nothing changed sends HEAD requests only and copies 0 bytes', async () => {
    await run({ groups: 'core,monitoring' });
    sourceProxy.requests.length = 0;
    targetProxy.requests.length = 0;
    const result = await run({ groups: ['core', 'monitoring'], json: true });
    expect(result.success).toBe(true);
    const report = JSON.parse(result.stdout) as { images: Array<{ status: string; copy: { bytesCopied: number } }> };
    expect(report.images.map((image) => [image.status, image.copy.bytesCopied])).toEqual([['current', 0], ['current', 0]]);
    expect(sourceProxy.requests.filter((r) => r.method !== 'HEAD')).toEqual([]);
    expect(targetProxy.requests.filter((r) => r.method !== 'HEAD')).toEqual([]);
    expect(result.stderr).toMatch(/current\s+core: /);
  });

  it('mirrors into an OCI image layout that skopeo reads with the same digests', async () => {
    const result = await run({ registry: 'oci:bundle', groups: 'core,monitoring' });
    expect(result.success).toBe(true);
    for (const name of ['alpha', 'gamma']) {
      expect(await skopeoManifestDigest(`oci:${join(dir, 'bundle')}:${name}:1.0`)).toBe(images[name].digest);
    }
    expect(targetProxy.requests).toEqual([]);
  });

  it('--platforms narrows each index to those platforms and says so with both digests, in text and JSON', async () => {
    const result = await run({ registry: 'oci:arm-bundle', coreOnly: true, platforms: 'linux/arm64', json: true });
    expect(result.success).toBe(true);
    const [alpha] = (JSON.parse(result.stdout) as { images: Array<{ digest: string; upstreamDigest: string }> }).images;
    expect(alpha.digest).not.toBe(images.alpha.digest);
    expect(alpha.upstreamDigest).toBe(images.alpha.digest);
    expect(result.stderr).toContain(`narrowed: upstream ${images.alpha.digest} → ${alpha.digest} (linux/arm64 kept)`);
    const index = JSON.parse(await readFile(join(dir, 'arm-bundle/blobs/sha256', alpha.digest.slice(7)), 'utf8')) as { manifests: Array<{ platform: { architecture: string } }> };
    expect(index.manifests.map((m) => m.platform.architecture)).toEqual(['arm64']);
  });

  it('records upstream digests in a lock beside the list; refuses a tag that moved until --update accepts it and rewrites the lock', async () => {
    const pusher = new RegistryClient({ credentials: {} });
    const drifting = registryImage(pusher, ImageReference.parse(`${source.host}/upstream/drifting:1.0`));
    await copyImage(ociLayoutImage(join(dir, 'layout'), 'gamma'), drifting);
    await writeFile(join(dir, 'drift.json'), JSON.stringify({ groups: { core: { images: [{ source: `${sourceProxy.host}/upstream/drifting:1.0`, target: 'drifting:1.0' }] } } }, null, 2));
    const lockFile = join(dir, 'drift.lock.json');
    expect((await run({ manifest: 'drift.json', dryRun: true })).success).toBe(true);
    await expect(readFile(lockFile)).rejects.toThrow(/ENOENT/);
    const first = await run({ manifest: 'drift.json' });
    expect(first.stdout).toContain('lock: wrote drift.lock.json (1 pin)');
    const locked = await readFile(lockFile, 'utf8');
    expect(JSON.parse(locked)).toEqual({ lockfileVersion: 1, images: { 'drifting:1.0': { source: `${sourceProxy.host}/upstream/drifting:1.0`, digest: images.gamma.digest } } });

    await copyImage(ociLayoutImage(join(dir, 'layout'), 'alpha'), drifting);
    await pusher.close();
    targetProxy.requests.length = 0;
    const refused = await run({ manifest: 'drift.json' });
    expect(refused.success).toBe(false);
    expect(refused.stdout).toMatch(new RegExp(`MOVED\\s+core: \\S+/admin/drifting:1\\.0 .*upstream moved drifting:1\\.0 from ${images.gamma.digest} to ${images.alpha.digest} \\(\\S+ at drift\\.json:5\\)`));
    expect(refused.stdout).toContain('1 moved upstream and was not copied (drifting:1.0): check them, then --update=drifting:1.0');
    expect(targetProxy.requests.filter((r) => r.method !== 'HEAD')).toEqual([]);
    expect(await readFile(lockFile, 'utf8')).toBe(locked);

    const updated = await run({ manifest: 'drift.json', update: 'drifting' });
    expect(updated.success).toBe(true);
    // The tag held what the lock recorded: --update was the decision, and the report names what the servers' tag held.
    expect(updated.stdout).toMatch(new RegExp(`replaced\\s+core: \\S+/admin/drifting:1\\.0 \\(was ${images.gamma.digest}, now ${images.alpha.digest}\\)  <- `));
    expect(updated.stdout).toContain('1 image, 0 copied, 1 replaced, 0 already current');
    expect(await targetDigest('drifting')).toBe(images.alpha.digest);
    expect(JSON.parse(await readFile(lockFile, 'utf8')).images['drifting:1.0'].digest).toBe(images.alpha.digest);

    const back = new RegistryClient({ credentials: {} });
    await copyImage(ociLayoutImage(join(dir, 'layout'), 'gamma'), registryImage(back, ImageReference.parse(`${source.host}/upstream/drifting:1.0`)));
    await back.close();
    expect((await run({ manifest: 'drift.json', update: true })).success).toBe(true);
    expect(JSON.parse(await readFile(lockFile, 'utf8')).images['drifting:1.0'].digest).toBe(images.gamma.digest);
  });

  it('a target tag holding an image the lock does not record: refused as occupied, a dry run with --replace says would replace and writes nothing, --replace replaces it', async () => {
    const other = new RegistryClient({ credentials: { [target.host]: credentials } });
    // Someone pushed another image under the tag the mirror writes.
    await copyImage(ociLayoutImage(join(dir, 'layout'), 'beta'), registryImage(other, ImageReference.parse(`${target.host}/admin/taken:1.0`)));
    await other.close();
    await writeFile(join(dir, 'taken.json'), JSON.stringify({ groups: { core: { images: [{ source: `${sourceProxy.host}/upstream/gamma:1.0`, target: 'taken:1.0' }] } } }, null, 2));
    const lockFile = join(dir, 'taken.lock.json');
    const before = await storageSnapshot(target.storageDir);
    expect(await targetDigest('taken')).toBe(images.beta.digest);

    const refused = await run({ manifest: 'taken.json' });
    expect(refused.success).toBe(false);
    expect(refused.stdout).toMatch(new RegExp(`OCCUPIED\\s+core: \\S+/admin/taken:1\\.0  <- \\S+: the tag holds ${images.beta.digest}, and its mirror lock records nothing for taken:1\\.0 .*; check what it is, then replace it with --replace=taken:1\\.0$`, 'm'));
    expect(refused.stdout).toMatch(/^total\s+1\s+0\s+0\s+0\s+0\s+1\s+0\s/m);
    expect(refused.stdout).toContain('1 image, 0 copied, 0 replaced, 0 already current; 1 held an image the lock does not record and was not replaced (taken:1.0): check them, then --replace=taken:1.0');
    const dryRefused = await run({ manifest: 'taken.json', dryRun: true });
    expect(dryRefused.success).toBe(false);
    expect(dryRefused.stdout).toMatch(/OCCUPIED\s+core: \S+\/admin\/taken:1\.0 /);

    const dry = await run({ manifest: 'taken.json', dryRun: true, replace: 'taken' });
    expect(dry.success).toBe(true);
    expect(dry.stdout).toMatch(new RegExp(`would replace core: \\S+/admin/taken:1\\.0 \\(is ${images.beta.digest}, would be ${images.gamma.digest}\\)  <- `));
    expect(dry.stdout).toContain('nothing written: 1 image, 0 to copy, 1 to replace, 0 current');
    expect(targetProxy.requests.filter((r) => r.method !== 'HEAD')).toEqual([]);
    expect(await storageSnapshot(target.storageDir)).toEqual(before);
    await expect(readFile(lockFile)).rejects.toThrow(/ENOENT/);

    const replaced = await run({ manifest: 'taken.json', replace: ['taken:1.0'], json: true });
    expect(replaced.success).toBe(true);
    const report = JSON.parse(replaced.stdout) as { counts: Record<string, number>; images: Array<Record<string, unknown>> };
    expect(report.counts).toEqual({ copied: 0, replaced: 1, current: 0, moved: 0, occupied: 0, failed: 0 });
    expect(report.images[0]).toMatchObject({ status: 'replaced', existingDigest: images.beta.digest, digest: images.gamma.digest });
    expect(replaced.stderr).toMatch(new RegExp(`replaced\\s+core: \\S+/admin/taken:1\\.0 \\(was ${images.beta.digest}, now ${images.gamma.digest}\\)`));
    expect(replaced.stderr).toContain('1 image, 0 copied, 1 replaced, 0 already current');
    expect(await targetDigest('taken')).toBe(images.gamma.digest);
    expect(JSON.parse(await readFile(lockFile, 'utf8')).images['taken:1.0'].digest).toBe(images.gamma.digest);
    const again = await run({ manifest: 'taken.json' });
    expect(again.success).toBe(true);
    expect(again.stdout).toMatch(/current\s+core: \S+\/admin\/taken:1\.0  <- /);
  });

  it('--core-only mirrors the core group alone', async () => {
    const result = await run({ coreOnly: true, dryRun: true });
    expect(result.success).toBe(true);
    expect(result.stdout).toMatch(/checking 1 image into/);
  });

  it('names the user and registry on a wrong password, every image fails, the secret never shows', async () => {
    process.env['GITEA_REGISTRY_PASSWORD'] = 'a-wrong-secret-123';
    const result = await run({});
    expect(result.success).toBe(false);
    expect(result.stdout).toMatch(new RegExp(`FAILED\\s+core: .*registry ${targetProxy.host} refused authentication: the password for user "mirror-bot" was not accepted`));
    expect(`${result.stdout}${result.stderr}`).not.toContain('a-wrong-secret-123');
  });

  it.each([
    [{ manifest: 'broken.json' }, /broken\.json:5: groups\.core\.images\.0 \(image \S+alpha:1\.0\) must have required property 'target'/],
    [{ manifest: 'clash.json' }, /clash\.json:\d+: target "same" is claimed by both \S+alpha:1\.0 \(line \d+\) and \S+gamma:1\.0/],
    [{ manifest: 'missing.json' }, /missing\.json cannot be read \(ENOENT\)/],
    [{ groups: 'core,nope' }, /unknown group "nope"; the groups are core, platform, communication|unknown group "nope"; the groups are core, platform, monitoring/],
    [{ coreOnly: true, groups: 'core' }, /either --core-only or --groups/],
    [{ platforms: 'amd64' }, /"amd64" is not os\/arch/],
    [{ registry: 'admin' }, /--registry "admin" is not a registry host\[:port\]\[\/namespace\] \("admin" is not a registry host/],
    [{ registry: '127.0.0.1:99999/admin' }, /--registry "127\.0\.0\.1:99999\/admin" is not .*port 99999 .* is not a TCP port/],
    [{ registry: 'http://127.0.0.1:5000/admin' }, /--registry "http:\/\/127\.0\.0\.1:5000\/admin" is not a registry host.*with no scheme/],
    [{ update: 'postgres' }, /--update: "postgres" is no pin of the images selected; name a target such as alpha:1\.0/],
    [{ replace: 'postgres,beta' }, /--replace: "postgres" is no pin of the images selected; name a target such as alpha:1\.0, or give --replace alone to replace every occupied tag/],
    [{ manifest: 'bad-lock.json' }, /bad-lock\.lock\.json is not valid JSON .*; restore it from version control/],
  ])('refuses bad input %j with a clear line per problem and no request', async (options, message) => {
    const result = await run(options as MirrorImagesOptions);
    expect(result.success).toBe(false);
    expect(result.stderr).toMatch(message);
    // broken.json has two mistakes on one line: a missing and a misspelt property
    expect(result.stderr.split('\n').length).toBeLessThanOrEqual(3);
    expect(targetProxy.requests).toEqual([]);
    expect(sourceProxy.requests).toEqual([]);
  });
});
