import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateNodesContext } from '@nx/devkit';
import { createNodes } from './docker-targets';
import type { DockerTargetsOptions } from './plugin-options';

describe('docker targets inference', () => {
  let root: string;
  let context: CreateNodesContext;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'docker-targets-'));
    context = { workspaceRoot: root, nxJsonConfiguration: {} };
    await addProject('apps/api', { name: 'api', targets: { build: {} } });
    await addProject('apps/editor', { name: 'editor', tags: ['docker:on-demand'] });
    await mkdir(join(root, 'fixtures/loose'), { recursive: true });
    await writeFile(join(root, 'fixtures/loose/Dockerfile'), 'FROM scratch\n');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  async function addProject(projectRoot: string, projectJson: object): Promise<void> {
    await mkdir(join(root, projectRoot), { recursive: true });
    await writeFile(join(root, projectRoot, 'project.json'), JSON.stringify(projectJson));
    await writeFile(join(root, projectRoot, 'Dockerfile'), 'FROM scratch\n');
  }

  async function infer(options?: DockerTargetsOptions) {
    const files = ['apps/api/Dockerfile', 'apps/editor/Dockerfile', 'fixtures/loose/Dockerfile'];
    return Object.fromEntries(await createNodes[1](files, options, context));
  }

  it('gives every project with a Dockerfile docker-build and docker-push, grouped for Nx Console', async () => {
    const api = (await infer())['apps/api/Dockerfile'].projects?.['apps/api'];
    const push = api?.targets?.['docker-push'];
    expect(push?.executor).toBe('./tools/release-kit/executors:docker-build-push');
    expect(push?.options).toMatchObject({ push: true, imageName: 'changemaker-{projectName}', tags: ['{sha}', 'latest'], engine: 'auto' });
    expect(push?.dependsOn).toEqual(['build']);
    expect(push?.inputs).toEqual(expect.arrayContaining(['production', '^production']));
    expect(push?.metadata?.technologies).toEqual(['docker']);
    expect(push?.metadata?.description).toMatch(/push/);
    expect(api?.targets?.['docker-build']?.options).toMatchObject({ push: false });
    expect(api?.metadata?.targetGroups).toEqual({ Docker: ['docker-build', 'docker-push'] });
  });

  it('leaves on-demand projects out of ordinary runs, with a configuration that builds them', async () => {
    const push = (await infer())['apps/editor/Dockerfile'].projects?.['apps/editor']?.targets?.['docker-push'];
    expect(push?.options).toMatchObject({ onDemand: true });
    expect(push?.configurations).toEqual({ 'with-on-demand': { onDemand: false } });
  });

  it('infers nothing for a Dockerfile outside a project', async () => {
    expect((await infer())['fixtures/loose/Dockerfile']).toEqual({});
  });

  it('takes names and settings from the plugin entry in nx.json', async () => {
    const settings = { registry: 'registry.example/team', tags: ['{shortSha}'], cacheRepository: 'build-cache/{projectName}' };
    const targets = (await infer({ pushTargetName: 'image-push', buildTargetName: 'image', ...settings }))['apps/api/Dockerfile'].projects?.['apps/api']?.targets;
    expect(Object.keys(targets ?? {}).sort()).toEqual(['image', 'image-push']);
    expect(targets?.['image-push']?.options).toMatchObject(settings);
  });
});

describe('nx release publish targets', () => {
  let root: string;
  let context: CreateNodesContext;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'release-targets-'));
    context = { workspaceRoot: root, nxJsonConfiguration: {} };
    for (const [projectRoot, name, file] of [['apps/api', 'api', 'Dockerfile'], ['docker', 'docker', 'VERSION'], ['fixtures', 'fixtures', '']] as const) {
      await mkdir(join(root, projectRoot), { recursive: true });
      await writeFile(join(root, projectRoot, 'project.json'), JSON.stringify({ name, targets: name === 'api' ? { build: {} } : {} }));
      if (file) await writeFile(join(root, projectRoot, file), file === 'VERSION' ? 'v0.0.0\n' : 'FROM scratch\n');
    }
    await writeFile(join(root, 'VERSION'), 'v9.9.9\n');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const infer = async (files: string[]) => Object.fromEntries(await createNodes[1](files, undefined, context));

  it('gives each image an nx-release-publish that pushes v{version} too, reading the version from the product\'s VERSION file', async () => {
    const nodes = await infer(['apps/api/Dockerfile', 'docker/VERSION', 'VERSION']);
    const release = nodes['apps/api/Dockerfile'].projects?.['apps/api']?.targets?.['nx-release-publish'];
    expect(release?.executor).toBe('./tools/release-kit/executors:docker-build-push');
    expect(release?.options).toMatchObject({ push: true, tags: ['{sha}', 'latest', 'v{version}'], releaseVersionFile: 'docker/VERSION' });
    expect(release?.dependsOn).toEqual(['build']);
  });

  it('gives the project with the VERSION file the product release, after every image it depends on', async () => {
    const nodes = await infer(['apps/api/Dockerfile', 'docker/VERSION']);
    const product = nodes['docker/VERSION'].projects?.['docker']?.targets?.['nx-release-publish'];
    expect(product).toMatchObject({
      executor: './tools/release-kit/executors:release-product',
      options: { versionFile: 'docker/VERSION' },
      dependsOn: [{ dependencies: true, target: 'nx-release-publish', params: 'forward' }],
      cache: false,
    });
    expect(nodes['docker/VERSION'].projects?.['docker']?.metadata?.targetGroups).toEqual({ Release: ['nx-release-publish', 'abandon-release'] });
  });

  it("gives the product's release the plugin's registry, the one its image tasks push to, so it checks and names the images there", async () => {
    const nodes = Object.fromEntries(await createNodes[1](['apps/api/Dockerfile', 'docker/VERSION'], { registry: '127.0.0.1:5000/team' }, context));
    expect(nodes['apps/api/Dockerfile'].projects?.['apps/api']?.targets?.['nx-release-publish']?.options).toMatchObject({ registry: '127.0.0.1:5000/team' });
    expect(nodes['docker/VERSION'].projects?.['docker']?.targets?.['nx-release-publish']?.options).toEqual({ versionFile: 'docker/VERSION', registry: '127.0.0.1:5000/team' });
    // Without one, both use GITEA_REGISTRY.
    expect((await infer(['docker/VERSION']))['docker/VERSION'].projects?.['docker']?.targets?.['nx-release-publish']?.options).toEqual({ versionFile: 'docker/VERSION' });
  });

  it('gives the product a target that abandons a release stopped before it was pushed, never cached', async () => {
    const nodes = await infer(['docker/VERSION']);
    expect(nodes['docker/VERSION'].projects?.['docker']?.targets?.['abandon-release']).toMatchObject({
      executor: './tools/release-kit/executors:abandon-release',
      options: { versionFile: 'docker/VERSION' },
      cache: false,
    });
  });

  it("with a second project holding a VERSION file (a docs site's), releases the one nx.json's release names, and leaves the other a file", async () => {
    await mkdir(join(root, 'apps/docs'), { recursive: true });
    await writeFile(join(root, 'apps/docs/project.json'), JSON.stringify({ name: 'docs' }));
    await writeFile(join(root, 'apps/docs/VERSION'), 'v0.3.0\n');
    context = { ...context, nxJsonConfiguration: { release: { projects: ['docker'] } } };
    const nodes = await infer(['apps/api/Dockerfile', 'apps/docs/VERSION', 'docker/VERSION']);
    expect(nodes['apps/api/Dockerfile'].projects?.['apps/api']?.targets?.['nx-release-publish']?.options).toMatchObject({ releaseVersionFile: 'docker/VERSION' });
    expect(Object.keys(nodes['docker/VERSION'].projects?.['docker']?.targets ?? {})).toEqual(['nx-release-publish', 'abandon-release']);
    expect(nodes['apps/docs/VERSION']).toEqual({});
  });

  it('infers no release targets without a product VERSION file, and none for a VERSION file outside a project', async () => {
    const nodes = await infer(['apps/api/Dockerfile', 'VERSION']);
    expect(nodes['apps/api/Dockerfile'].projects?.['apps/api']?.targets?.['nx-release-publish']).toBeUndefined();
    expect(nodes['VERSION']).toEqual({});
  });
});
