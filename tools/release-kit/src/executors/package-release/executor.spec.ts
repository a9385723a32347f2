import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutorContext, ProjectConfiguration } from '@nx/devkit';
import { manifestFileName, type ReleaseManifest } from '@changemaker/release-contract';
import { createThrowawayWorkspace, type ThrowawayWorkspace } from '@changemaker/testing';
import { execa } from 'execa';
import { parse } from 'yaml';
import runExecutor from './executor';
import type { PackageReleaseOptions } from './schema';

const sourceWorkspace = join(__dirname, '../../../../..');
/**
 * A copy of this workspace committed in its own repository and tagged v1.2.3: a real run packages
 * a tag's commit, and this checkout is neither tagged nor (while it is edited) clean.
 */
let workspace: ThrowawayWorkspace;
let workspaceRoot: string;
beforeAll(async () => {
  workspace = await createThrowawayWorkspace(sourceWorkspace);
  workspaceRoot = workspace.root;
  await workspace.git('tag', 'v1.2.3');
}, 120_000);
afterAll(async () => {
  await workspace?.remove();
});
const maxTarballBytes = 15 * 1024 * 1024;
const releaseFiles = ['SHA256SUMS', 'changemaker-lite-latest.tar.gz', 'changemaker-lite-v1.2.3.tar.gz', 'release-manifest.json'];

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** The docker project's real target options, so the test packages what a release packages. */
async function dockerTargetOptions(): Promise<PackageReleaseOptions> {
  const project = await readJson<ProjectConfiguration>(join(workspaceRoot, 'docker/project.json'));
  return { tag: 'v1.2.3', dryRun: false, json: false, ...(project.targets?.['package-release']?.options as object) } as PackageReleaseOptions;
}

async function contextFor(root: string): Promise<ExecutorContext> {
  const projects: Record<string, ProjectConfiguration> = {};
  for (const parent of ['apps', 'docker']) {
    const roots = parent === 'docker' ? ['docker'] : (await readdir(join(root, parent)).catch(() => [])).map((name) => `${parent}/${name}`);
    for (const projectRoot of roots) {
      const config = await readJson<ProjectConfiguration>(join(root, projectRoot, 'project.json')).catch(() => undefined);
      if (config?.name) projects[config.name] = { ...config, root: projectRoot };
    }
  }
  return {
    root,
    cwd: root,
    isVerbose: false,
    projectName: 'docker',
    targetName: 'package-release',
    projectsConfigurations: { version: 2, projects },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  };
}

interface Run {
  result: { success: boolean };
  stdout: string;
  stderr: string;
}

async function run(options: PackageReleaseOptions, root?: string, taskGraph?: ExecutorContext['taskGraph']): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void out.push(String(line)));
  const error = jest.spyOn(console, 'error').mockImplementation((line: unknown) => void err.push(String(line)));
  try {
    return { result: await runExecutor(options, { ...(await contextFor(root ?? workspaceRoot)), taskGraph }), stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

/** Runs `body` with one environment variable set as given (unset for undefined), then puts it back. */
async function withEnv<T>(name: string, value: string | undefined, body: () => Promise<T>): Promise<T> {
  const saved = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cm-package-'));
});
afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('packaging the docker project', () => {
  it('writes the four release files, byte-identical across runs, checksummed for sha256sum', async () => {
    const options = await dockerTargetOptions();
    const first = await run({ ...options, outputDir: join(scratch, 'first') });
    const second = await run({ ...options, outputDir: join(scratch, 'second') });
    expect(first.result.success).toBe(true);
    expect((await readdir(join(scratch, 'first'))).sort()).toEqual(releaseFiles);
    for (const name of releaseFiles) {
      expect((await readFile(join(scratch, 'second', name))).equals(await readFile(join(scratch, 'first', name)))).toBe(true);
    }
    const versioned = await readFile(join(scratch, 'first', 'changemaker-lite-v1.2.3.tar.gz'));
    expect(versioned.equals(await readFile(join(scratch, 'first', 'changemaker-lite-latest.tar.gz')))).toBe(true);
    expect(versioned.length).toBeLessThan(maxTarballBytes);
    await execa('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(scratch, 'first') });
    expect(second.stdout).toContain('packaged v1.2.3:');
  });

  it('extracts with the system tar into the seed layout, modes normalised, images pinned, ready for config.sh and compose', async () => {
    const options = await dockerTargetOptions();
    // Cut against the default registry, which compose falls back to below: not whatever GITEA_REGISTRY the shell running the tests has.
    await withEnv('GITEA_REGISTRY', undefined, () => run({ ...options, outputDir: join(scratch, 'out') }));
    await execa('tar', ['-xzf', join(scratch, 'out', 'changemaker-lite-v1.2.3.tar.gz'), '-C', scratch]);
    const installed = join(scratch, 'changemaker-lite');
    const mode = async (path: string) => (await stat(join(installed, path))).mode & 0o7777;
    expect(await mode('config.sh')).toBe(0o755);
    expect(await mode('scripts/install.sh')).toBe(0o755);
    expect(await mode('scripts/upgrade.sh')).toBe(0o755);
    expect(await mode('scripts/backup.sh')).toBe(0o755);
    expect(await mode('.env.example')).toBe(0o644);
    expect(await mode('configs/prometheus/prometheus.yml')).toBe(0o644);
    expect(await mode('nginx/conf.d')).toBe(0o755);
    const nginxTemplate = await readFile(join(workspaceRoot, 'apps/nginx/templates/default.conf.template'));
    expect((await readFile(join(installed, 'nginx/conf.d/default.conf.template'))).equals(nginxTemplate)).toBe(true);
    expect(await mode('mkdocs/mkdocs.yml')).toBe(0o644);
    expect(await readdir(join(installed, 'data/postgres'))).toEqual([]);
    expect(await readFile(join(installed, 'VERSION'), 'utf8')).toBe('v1.2.3\n');
    expect(existsSync(join(installed, 'docker-compose.prod.yml'))).toBe(false);
    expect(existsSync(join(installed, '.env'))).toBe(false);

    await execa('bash', ['config.sh', '--non-interactive', '--domain', 'example.org', '--admin-email', 'ops@example.org'], { cwd: installed });
    const resolved = await execa('docker-compose', ['config'], { cwd: installed, env: { PATH: process.env.PATH, GITEA_REGISTRY: '', IMAGE_TAG: '' }, extendEnv: false });
    const services = parse(resolved.stdout).services as Record<string, { image: string }>;
    expect(services.api.image).toBe('gitea.bnkops.com/admin/changemaker-api:v1.2.3');
    const manifest = await readJson<ReleaseManifest>(join(scratch, 'out', manifestFileName));
    const coreImages = Object.fromEntries(Object.entries(services).map(([service, { image }]) => [service, image]));
    expect(Object.fromEntries(manifest.images.map((image) => [image.service, image.reference]))).toEqual(expect.objectContaining(coreImages));
    expect(manifest.images.map((image) => image.service)).toEqual(Object.keys(parse(await readFile(join(installed, 'docker-compose.yml'), 'utf8')).services));
  });

  it('tells each workspace service the release it was installed as (APP_VERSION), which an IMAGE_TAG override changes with the image', async () => {
    const options = await dockerTargetOptions();
    await run({ ...options, outputDir: join(scratch, 'out') });
    await execa('tar', ['-xzf', join(scratch, 'out', 'changemaker-lite-v1.2.3.tar.gz'), '-C', scratch]);
    const installed = join(scratch, 'changemaker-lite');
    await writeFile(join(installed, '.env'), '');
    const manifest = await readJson<ReleaseManifest>(join(scratch, 'out', manifestFileName));
    const workspaceServices = manifest.images.filter((image) => image.source === 'workspace').map((image) => image.service);
    expect(workspaceServices.sort()).toEqual(['admin', 'api', 'media-api', 'nginx']);
    const resolvedWith = async (imageTag: string) => {
      const resolved = await execa('docker-compose', ['config'], { cwd: installed, env: { PATH: process.env.PATH, GITEA_REGISTRY: '', IMAGE_TAG: imageTag }, extendEnv: false });
      const services = parse(resolved.stdout).services as Record<string, { image: string; environment?: Record<string, string> }>;
      return Object.fromEntries(workspaceServices.map((service) => [service, { tag: services[service].image.split(':').at(-1), version: services[service].environment?.['APP_VERSION'] }]));
    };
    const each = (tag: string) => Object.fromEntries(workspaceServices.map((service) => [service, { tag, version: tag }]));
    expect(await resolvedWith('')).toEqual(each('v1.2.3'));
    expect(await resolvedWith('v1.2.4-rc.1')).toEqual(each('v1.2.4-rc.1'));
  });

  it('--json prints the manifest and the written files as the one line on stdout, the listing on stderr, for CI', async () => {
    const outputDir = join(scratch, 'json');
    const { stdout, stderr } = await run({ ...(await dockerTargetOptions()), outputDir, json: true });
    expect(stdout.split('\n')).toHaveLength(1);
    expect(stderr).toContain('packaged v1.2.3');
    const report = JSON.parse(stdout);
    expect(report).toEqual(expect.objectContaining({ name: 'changemaker-lite', version: '1.2.3', tag: 'v1.2.3' }));
    expect(report.written.map((file: { path: string }) => file.path).sort()).toEqual(releaseFiles.map((name) => join(outputDir, name)));
    expect(report).toEqual(await readJson<object>(join(outputDir, 'release-manifest.json')).then((manifest) => ({ ...manifest, written: report.written })));
  });

  it('names the images in the manifest by GITEA_REGISTRY, the registry the release is cut against', async () => {
    const { stdout } = await withEnv('GITEA_REGISTRY', '127.0.0.1:5000/team', async () => run({ ...(await dockerTargetOptions()), outputDir: join(scratch, 'registry'), json: true }));
    const images = (JSON.parse(stdout) as { images: Array<{ service: string; reference: string }> }).images;
    expect(images.find((image) => image.service === 'api')?.reference).toBe('127.0.0.1:5000/team/changemaker-api:v1.2.3');
    expect(images.every((image) => image.reference.startsWith('127.0.0.1:5000/team/'))).toBe(true);
  });

  it('--json forwarded by publish-release prints no JSON: the report on stdout is publish-release\'s', async () => {
    const task = (target: string) => ({ id: `docker:${target}`, target: { project: 'docker', target }, overrides: {}, outputs: [], parallelism: true });
    const taskGraph = {
      roots: ['docker:package-release'],
      tasks: { 'docker:package-release': task('package-release'), 'docker:publish-release': task('publish-release') },
      dependencies: { 'docker:package-release': [], 'docker:publish-release': ['docker:package-release'] },
      continuousDependencies: {},
    } as unknown as ExecutorContext['taskGraph'];
    const { result, stdout, stderr } = await run({ ...(await dockerTargetOptions()), outputDir: join(scratch, 'forwarded'), json: true }, workspaceRoot, taskGraph);
    expect(result).toEqual({ success: true });
    expect(stdout).toBe('');
    expect(stderr).toContain('packaged v1.2.3');
  });

  it.each([
    ['--dry-run', { dryRun: true }, undefined],
    ['NX_DRY_RUN, as nx release publish --dry-run sets it', {}, 'true'],
  ])('a dry run (%s) prints every entry with its size and the total, and writes nothing', async (_how, dryRunOption: { dryRun?: boolean }, nxDryRun: string | undefined) => {
    const outputDir = join(scratch, 'never');
    const options = { ...(await dockerTargetOptions()), outputDir, ...dryRunOption };
    const { result, stdout } = await withEnv('NX_DRY_RUN', nxDryRun, () => run(options));
    expect(result.success).toBe(true);
    expect(stdout).toMatch(/\d+(\.\d)? (B|KiB)\s+changemaker-lite\/docker-compose\.yml/);
    expect(stdout).toMatch(/total: \d+ entries, [\d.]+ KiB/);
    expect(existsSync(outputDir)).toBe(false);
  });

  it('with RELEASE_SIGNING_KEY_FILE set, signs SHA256SUMS and the tarball trusts the key; the key is never printed', async () => {
    const keyPath = join(scratch, 'release-key');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'spec', '-f', keyPath]);
    const privateKey = await readFile(keyPath, 'utf8');
    process.env['RELEASE_SIGNING_KEY_FILE'] = keyPath;
    try {
      const out = join(scratch, 'signed');
      const { result, stdout, stderr } = await run({ ...(await dockerTargetOptions()), outputDir: out });
      expect(result.success).toBe(true);
      expect(stdout).toContain(`signing SHA256SUMS with the key from RELEASE_SIGNING_KEY_FILE (${keyPath})`);
      expect(`${stdout}${stderr}`).not.toContain(privateKey.split('\n')[1]);
      expect((await readdir(out)).sort()).toEqual([...releaseFiles, 'SHA256SUMS.sig'].sort());
      const trusted = await execa('tar', ['-xzOf', join(out, 'changemaker-lite-v1.2.3.tar.gz'), 'changemaker-lite/allowed_signers']);
      const publicKey = (await readFile(`${keyPath}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
      expect(trusted.stdout.split('\n').at(-1)).toBe(`release@changemaker-lite ${publicKey}`);
      await writeFile(join(scratch, 'allowed_signers'), `${trusted.stdout}\n`);
      const verdict = await execa(
        'ssh-keygen',
        ['-Y', 'verify', '-f', join(scratch, 'allowed_signers'), '-I', 'release@changemaker-lite', '-n', 'changemaker-lite-release', '-s', join(out, 'SHA256SUMS.sig')],
        { input: await readFile(join(out, 'SHA256SUMS')), reject: false },
      );
      expect(verdict.exitCode).toBe(0);
    } finally {
      delete process.env['RELEASE_SIGNING_KEY_FILE'];
    }
  });

  it('refuses a tag that is not v<semver>, writing nothing', async () => {
    const outputDir = join(scratch, 'never');
    const { result, stderr } = await run({ ...(await dockerTargetOptions()), outputDir, tag: '1.2' });
    expect(result.success).toBe(false);
    expect(stderr).toBe('package-release: tag "1.2" is not a release tag; use v<semver>, e.g. --tag v1.2.3');
    expect(existsSync(outputDir)).toBe(false);
  });

  it('explains a numeric tag (--tag 1.2 reaches the executor as a number) the same way', async () => {
    const outputDir = join(scratch, 'never');
    const { result, stderr } = await run({ ...(await dockerTargetOptions()), outputDir, tag: 1.2 });
    expect(result.success).toBe(false);
    expect(stderr).toBe('package-release: tag "1.2" is not a release tag; use v<semver>, e.g. --tag v1.2.3');
    expect(existsSync(outputDir)).toBe(false);
  });

  it("refuses publish-release's options when run on its own, and takes them when publish-release forwards them", async () => {
    const options = { ...(await dockerTargetOptions()), replace: true, notesFile: 'NOTES.md' };
    const alone = await run({ ...options, outputDir: join(scratch, 'never') });
    expect(alone.result.success).toBe(false);
    expect(alone.stderr).toBe('package-release: --notes-file, --replace are options of publish-release, not package-release: run npx nx run docker:publish-release with them');
    expect(existsSync(join(scratch, 'never'))).toBe(false);

    const task = (target: string) => ({ id: `docker:${target}`, target: { project: 'docker', target }, outputs: [], overrides: {}, parallelism: true });
    const taskGraph = {
      roots: ['docker:package-release'],
      tasks: { 'docker:package-release': task('package-release'), 'docker:publish-release': task('publish-release') },
      dependencies: { 'docker:publish-release': ['docker:package-release'], 'docker:package-release': [] },
      continuousDependencies: {},
    } as unknown as ExecutorContext['taskGraph'];
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const forwarded = await runExecutor({ ...options, dryRun: true }, { ...(await contextFor(workspaceRoot)), taskGraph });
      expect(forwarded.success).toBe(true);
    } finally {
      log.mockRestore();
    }
  });
});

describe('a real run packages the tag\'s commit, as committed', () => {
  it('refuses untracked and edited files under docker/, one line each, and writes nothing; --dry-run lists them and succeeds', async () => {
    const stray = join(workspaceRoot, 'docker/configs/.stray.yml');
    const config = join(workspaceRoot, 'docker/config.sh');
    const committedConfig = await readFile(config);
    await writeFile(stray, 'a: 1\n');
    await writeFile(config, Buffer.concat([committedConfig, Buffer.from('# edited\n')]));
    try {
      const outputDir = join(scratch, 'never');
      const refused = await run({ ...(await dockerTargetOptions()), outputDir });
      expect(refused.result.success).toBe(false);
      expect(refused.stderr.split('\n')).toEqual([
        expect.stringMatching(/^package-release: docker\/configs\/\.stray\.yml: not committed at [0-9a-f]{12} \(HEAD\); commit it, remove it, or exclude it from the release's sources$/),
        expect.stringMatching(/^package-release: docker\/config\.sh: differs from [0-9a-f]{12} \(HEAD\)/),
      ]);
      expect(existsSync(outputDir)).toBe(false);
      const dryRun = await run({ ...(await dockerTargetOptions()), outputDir, dryRun: true });
      expect(dryRun.result.success).toBe(true);
      expect(dryRun.stdout).toMatch(/^note: refused outside a dry run: docker\/configs\/\.stray\.yml: not committed at/m);
      expect(dryRun.stdout).toMatch(/^note: refused outside a dry run: docker\/config\.sh: differs from/m);
      expect(existsSync(outputDir)).toBe(false);
    } finally {
      await rm(stray);
      await writeFile(config, committedConfig);
    }
  });

  it('refuses a tag that does not exist, whatever SOURCE_DATE_EPOCH says; --dry-run packages HEAD ahead of it and says so', async () => {
    const outputDir = join(scratch, 'never');
    process.env['SOURCE_DATE_EPOCH'] = '1700000000';
    try {
      const refused = await run({ ...(await dockerTargetOptions()), outputDir, tag: 'v1.2.4' });
      expect(refused.result.success).toBe(false);
      expect(refused.stderr).toBe(
        'package-release: v1.2.4 does not exist (no refs/tags/v1.2.4): a release is packaged from its tag; create it at HEAD (nx release, or git tag v1.2.4), fetch it if it exists (git fetch --tags), or use --dry-run to package ahead of the tag',
      );
      const dryRun = await run({ ...(await dockerTargetOptions()), outputDir, tag: 'v1.2.4', dryRun: true });
      expect(dryRun.result.success).toBe(true);
      expect(dryRun.stdout).toMatch(/^note: v1\.2\.4 does not exist yet: HEAD \([0-9a-f]{12}\) stands in for it; a real run requires the tag$/m);
      expect(existsSync(outputDir)).toBe(false);
    } finally {
      delete process.env['SOURCE_DATE_EPOCH'];
    }
  });
});

describe('a workspace with a real .env among its sources', () => {
  it('refuses it by name, leaves no output and does not print the secret', async () => {
    const root = join(scratch, 'workspace');
    await mkdir(join(root, 'docker'), { recursive: true });
    await writeFile(join(root, 'docker/project.json'), JSON.stringify({ name: 'docker' }));
    await writeFile(join(root, 'docker/docker-compose.prod.yml'), 'services: {}\n');
    await writeFile(join(root, 'docker/.env'), 'POSTGRES_PASSWORD=s3cr3t-value-never-printed\n');
    const outputDir = join(scratch, 'never');
    const options = { ...(await dockerTargetOptions()), outputDir, sources: ['docker-compose.prod.yml', '.env'] };
    const { result, stdout, stderr } = await run(options, root);
    expect(result.success).toBe(false);
    expect(stderr).toBe('package-release: docker/.env: is a real .env file (only .env.example ships); remove it from the release file list');
    expect(`${stdout}${stderr}`).not.toContain('s3cr3t');
    expect(existsSync(outputDir)).toBe(false);
  });
});

describe('nx run docker:package-release', () => {
  it('resolves through the plugin and writes the release', async () => {
    const outputDir = join(scratch, 'cli');
    await execa(process.execPath, [join(workspaceRoot, 'node_modules/nx/dist/bin/nx.js'), 'run', 'docker:package-release', '--tag', 'v1.2.3', '--output-dir', outputDir, '--skip-nx-cache'], {
      cwd: workspaceRoot,
      env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    });
    expect((await readdir(outputDir)).sort()).toEqual(releaseFiles);
  });

  const nx = (...args: string[]) =>
    execa(process.execPath, [join(workspaceRoot, 'node_modules/nx/dist/bin/nx.js'), 'run', 'docker:package-release', '--skip-nx-cache', ...args], {
      cwd: workspaceRoot,
      reject: false,
      all: true,
      env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', GITEA_URL: 'http://127.0.0.1:9', GITEA_REGISTRY: '127.0.0.1:9/admin' },
    });

  it('is never replayed from the Nx cache, whose inputs cannot see all it depends on (the registry, modes, the toolchain)', async () => {
    const outputDir = join(scratch, 'uncached');
    const packageWith = (registry: string) =>
      execa(process.execPath, [join(workspaceRoot, 'node_modules/nx/dist/bin/nx.js'), 'run', 'docker:package-release', '--tag', 'v1.2.3', '--output-dir', outputDir, '--json'], {
        cwd: workspaceRoot,
        reject: false,
        env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', GITEA_URL: 'http://127.0.0.1:9', GITEA_REGISTRY: registry },
      });
    const apiReference = async (registry: string) => {
      const { stdout, exitCode } = await packageWith(registry);
      expect(exitCode).toBe(0);
      const report = JSON.parse(stdout.split('\n').find((line) => line.startsWith('{')) ?? '{}') as { images: Array<{ service: string; reference: string }> };
      return report.images.find((image) => image.service === 'api')?.reference;
    };
    expect(await apiReference('127.0.0.1:5001/team')).toBe('127.0.0.1:5001/team/changemaker-api:v1.2.3');
    expect(await apiReference('127.0.0.1:5002/other')).toBe('127.0.0.1:5002/other/changemaker-api:v1.2.3');
  });

  it('refuses an option it does not know (--dryrun for --dry-run) before packaging anything', async () => {
    const outputDir = join(scratch, 'never');
    const { exitCode, all } = await nx('--tag', 'v1.2.3', '--output-dir', outputDir, '--dryrun');
    expect(exitCode).not.toBe(0);
    expect(all).toContain("'dryrun' is not found in schema");
    expect(all).not.toContain('changemaker-lite v1.2.3:');
    expect(existsSync(outputDir)).toBe(false);
  });

  it.each([['--tag', '1.2'], ['--tag=2']])('answers %s with its own message, not a type error', async (...tag) => {
    const outputDir = join(scratch, 'never');
    const { exitCode, all } = await nx(...tag, '--output-dir', outputDir);
    expect(exitCode).toBe(1);
    expect(all).toMatch(/package-release: tag "(1\.2|2)" is not a release tag; use v<semver>, e.g. --tag v1\.2\.3/);
    expect(all).not.toContain('does not match the schema');
    expect(existsSync(outputDir)).toBe(false);
  });
});
