import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createThrowawayWorkspace, nxJson, runNx, type ThrowawayWorkspace } from '@changemaker/testing';

const workspaceRoot = join(__dirname, '../../../..');

/**
 * Which images `nx affected -t docker-push` picks after a commit that changes only a root file: the
 * lock file, tsconfig.base.json or nx.json. Each case is one commit on the same base in one
 * throwaway workspace, judged by `nx show projects --affected -t docker-push --base=HEAD~1`.
 * Only the files change: lock-file cases need no install, since affected reads the lock file alone.
 */
describe('nx affected -t docker-push after a change to a root file', () => {
  let workspace: ThrowawayWorkspace;
  let base: string;
  let everyImage: string[];

  beforeAll(async () => {
    workspace = await createThrowawayWorkspace(workspaceRoot);
    base = await workspace.git('rev-parse', 'HEAD');
    everyImage = (await nxJson<string[]>(workspace.root, ['show', 'projects', '-t', 'docker-push', '--json'])).sort();
  }, 120_000);
  afterAll(() => workspace?.remove());


  /** Commits the change alone on top of the base (or of HEAD), and asks which image projects it affects. */
  async function imagesAffectedBy(message: string, change: () => Promise<void>, { onTopOf = base } = {}): Promise<string[]> {
    if (onTopOf !== 'HEAD') await workspace.git('checkout', '-q', '-B', 'change', onTopOf);
    await change();
    await workspace.commitAll(message);
    return (await nxJson<string[]>(workspace.root, ['show', 'projects', '--affected', '-t', 'docker-push', '--base=HEAD~1', '--head=HEAD', '--json'])).sort();
  }

  async function editJson(file: string, edit: (value: any) => void): Promise<void> {
    const path = join(workspace.root, file);
    const value = JSON.parse(await readFile(path, 'utf8'));
    edit(value);
    await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
  }

  /** What npm writes for another version of an installed package: its version and integrity. */
  const relock = (packages: Record<string, string>) =>
    editJson('package-lock.json', (lock) => {
      for (const [name, version] of Object.entries(packages)) {
        const entry = lock.packages[`node_modules/${name}`];
        if (!entry) throw new Error(`package-lock.json has no node_modules/${name}`);
        Object.assign(entry, { version, resolved: `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${version}.tgz`, integrity: `sha512-${Buffer.from(`${name}@${version}`).toString('base64')}` });
      }
    });

  it('lists every service image as the images to check', () => {
    expect(everyImage).toEqual(['admin', 'api', 'code-server', 'media-api', 'nginx']);
  });

  it('(a) a bump of a package only api bundles (express, in package.json and the lock file) affects api alone', async () => {
    const affected = await imagesAffectedBy('bump express', async () => {
      await editJson('package.json', (manifest) => (manifest.dependencies.express = '5.2.1'));
      await editJson('package-lock.json', (lock) => (lock.packages[''].dependencies.express = '5.2.1'));
      await relock({ express: '5.2.1' });
    });
    expect(affected).toEqual(['api']);
  }, 60_000);

  it('(a) a lock-file-only bump of a package express pulls in (qs) affects api alone', async () => {
    expect(await imagesAffectedBy('bump qs', () => relock({ qs: '6.17.0' }))).toEqual(['api']);
  }, 60_000);

  it('(b) a lock-file bump of a test tool no image contains (jest) affects no image', async () => {
    expect(await imagesAffectedBy('bump jest', () => relock({ jest: '30.5.1' }))).toEqual([]);
  }, 60_000);

  it('(c) a path mapping for a new library no service imports affects no image', async () => {
    const affected = await imagesAffectedBy('a new library', async () => {
      await mkdir(join(workspace.root, 'libs/feature-flags/src'), { recursive: true });
      await writeFile(join(workspace.root, 'libs/feature-flags/project.json'), JSON.stringify({ name: 'feature-flags', sourceRoot: 'libs/feature-flags/src', projectType: 'library' }));
      await writeFile(join(workspace.root, 'libs/feature-flags/src/index.ts'), 'export const flags = {};\n');
      await editJson('tsconfig.base.json', (tsconfig) => (tsconfig.compilerOptions.paths['@changemaker/feature-flags'] = ['libs/feature-flags/src/index.ts']));
    });
    expect(affected).toEqual([]);
  }, 60_000);

  // Nx's tsconfig analysis marks the projects a changed path points into, and their dependents; a
  // path pointing elsewhere would mark nothing, though a service importing it would change.
  it('(c) holds only path mappings that point into one project, so a changed mapping marks who imports it', async () => {
    await workspace.git('checkout', '-q', '-B', 'change', base);
    const roots = (await workspace.git('ls-files', '--', '*project.json')).split('\n').map((file) => file.replace(/\/?project\.json$/, ''));
    const paths = JSON.parse(await readFile(join(workspace.root, 'tsconfig.base.json'), 'utf8')).compilerOptions.paths as Record<string, string[]>;
    const outside = Object.entries(paths).flatMap(([alias, targets]) => targets.filter((target) => !roots.some((root) => root && target.startsWith(`${root}/`))).map((target) => `${alias}: ${target}`));
    expect(outside).toEqual([]);
  });

  const addServiceHealthEntry = () => writeFile(join(workspace.root, 'libs/service-health/src/index-v2.ts'), "export * from './index';\n");
  const retargetServiceHealth = () =>
    editJson('tsconfig.base.json', (tsconfig) => (tsconfig.compilerOptions.paths['@changemaker/service-health'] = ['libs/service-health/src/index-v2.ts']));

  it('(c) a mapping retargeted within the library api and media-api import affects those two', async () => {
    await workspace.git('checkout', '-q', '-B', 'change', base);
    await addServiceHealthEntry();
    await workspace.commitAll('another entry point for service-health');
    const affected = await imagesAffectedBy('retarget service-health', retargetServiceHealth, { onTopOf: 'HEAD' });
    expect(affected).toEqual(['api', 'media-api']);
  }, 60_000);

  it('(c, d) keeps tsconfig.base.json in the hash of every build: a retargeted mapping is bundled again, not replayed from the Nx cache', async () => {
    await workspace.git('checkout', '-q', '-B', 'change', base);
    await addServiceHealthEntry();
    await workspace.commitAll('another entry point for service-health');
    const build = async () => {
      const run = await runNx(workspace.root, ['run', 'api:build', '--outputStyle=stream']);
      if (run.exitCode !== 0) throw new Error(`nx run api:build failed:\n${run.all}`);
      return run;
    };
    const replayed = /local cache|existing outputs match the cache/;
    await build();
    expect((await build()).stdout).toMatch(replayed);
    await retargetServiceHealth();
    await workspace.commitAll('retarget service-health');
    expect((await build()).stdout).not.toMatch(replayed);
  }, 120_000);

  it("builds again after a commit that only makes a file executable: Nx's file hashes omit the mode, so the cache replayed the old one, and the image a fresh clone builds for the commit differed", async () => {
    await workspace.git('checkout', '-q', '-B', 'change', base);
    const build = async () => {
      const run = await runNx(workspace.root, ['run', 'admin:build', '--outputStyle=stream']);
      if (run.exitCode !== 0) throw new Error(`nx run admin:build failed:\n${run.all}`);
      return run;
    };
    const replayed = /local cache|existing outputs match the cache/;
    const builtMode = async () => (await stat(join(workspace.root, 'dist/apps/admin/index.html'))).mode & 0o777;
    await build();
    expect((await build()).stdout).toMatch(replayed);
    expect(await builtMode()).toBe(0o644);
    await chmod(join(workspace.root, 'apps/admin/src/index.html'), 0o755);
    await workspace.commitAll('index.html executable');
    expect((await build()).stdout).not.toMatch(replayed);
    expect(await builtMode()).toBe(0o755);
  }, 120_000);

  it('(d) a compiler option, which esbuild may read, affects every image', async () => {
    // useDefineForClassFields changes the bundles of api and media-api (service-health's InvalidPortError).
    const affected = await imagesAffectedBy('a compiler option', () => editJson('tsconfig.base.json', (tsconfig) => (tsconfig.compilerOptions.useDefineForClassFields = false)));
    expect(affected).toEqual(everyImage);
  }, 60_000);

  it("(e) nx.json's release block affects every image: Nx marks every project on any change to nx.json", async () => {
    const affected = await imagesAffectedBy('release commit message', () => editJson('nx.json', (nxJson) => (nxJson.release.git.commitMessage = 'chore(release): publish v{version}')));
    expect(affected).toEqual(everyImage);
  }, 60_000);

  it("(f) the plugin's image name pattern in nx.json affects every image", async () => {
    const affected = await imagesAffectedBy('image names', () =>
      editJson('nx.json', (nxJson) => {
        const plugin = nxJson.plugins.find((entry: { plugin: string }) => entry.plugin === './tools/release-kit/plugin.js');
        plugin.options.imageName = 'cm-{projectName}';
      }),
    );
    expect(affected).toEqual(everyImage);
  }, 60_000);

  it("a lock-file bump of the apps' build executor (@nx/esbuild) affects every image built with it, and no other", async () => {
    expect(await imagesAffectedBy('bump @nx/esbuild', () => relock({ '@nx/esbuild': '23.2.0' }))).toEqual(['admin', 'api', 'media-api']);
  }, 60_000);

  it("a lock-file bump of esbuild affects every image: it bundles the apps, and compiles the plugin's executors (load-compiled.js)", async () => {
    expect(await imagesAffectedBy('bump esbuild', () => relock({ esbuild: '0.28.1', '@esbuild/linux-x64': '0.28.1' }))).toEqual(everyImage);
  }, 60_000);

  it('a lock-file bump of a package the docker-build-push executor loads (@balena/dockerignore) affects every image', async () => {
    expect(await imagesAffectedBy('bump dockerignore', () => relock({ '@balena/dockerignore': '1.0.3' }))).toEqual(everyImage);
  }, 60_000);
});
