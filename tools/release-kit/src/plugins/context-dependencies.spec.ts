import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createThrowawayWorkspace, nxJson, type ThrowawayWorkspace } from '@changemaker/testing';
import type { CreateDependenciesContext, ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { createContextDependencies } from './context-dependencies';

/** What nx hands the plugin: each project's root and targets, as the plugins and project.json files made them. */
function workspaceOf(projects: Record<string, { root: string; targets?: Record<string, TargetConfiguration> }>): CreateDependenciesContext {
  return {
    externalNodes: {},
    nxJsonConfiguration: {},
    workspaceRoot: '/workspace',
    projects: Object.fromEntries(Object.entries(projects).map(([name, { root, targets }]) => [name, { name, root, targets } as ProjectConfiguration])),
    fileMap: { nonProjectFiles: [], projectFileMap: {} },
    filesToProcess: { nonProjectFiles: [], projectFileMap: {} },
  };
}

const edges = async (projects: Parameters<typeof workspaceOf>[0], options?: Parameters<typeof createContextDependencies>[0]) =>
  (await createContextDependencies(options, workspaceOf(projects))).map(({ source, target, type }) => `${source} -> ${target} (${type})`);

const image = (options: Record<string, unknown> = {}, configurations?: Record<string, Record<string, unknown>>): Record<string, TargetConfiguration> => ({
  'docker-push': { executor: './tools/release-kit/executors:docker-build-push', options, ...(configurations ? { configurations } : {}) },
});

describe('context dependencies', () => {
  const libraries = {
    assets: { root: 'libs/assets' },
    'service-health': { root: 'libs/service-health' },
    docker: { root: 'docker' },
  };

  it('makes an image depend on the project its build context is in, so nx affected rebuilds it when that project changes', async () => {
    expect(await edges({ ...libraries, nginx: { root: 'apps/nginx', targets: image({ context: 'libs/assets/public' }) } })).toEqual(['nginx -> assets (implicit)']);
  });

  it('and on the project its Dockerfile is kept in, in a configuration too, each once', async () => {
    const targets = image({ dockerfile: 'docker/images/api.Dockerfile', context: './libs/assets/' }, { ci: { context: 'libs/assets' }, other: { dockerfile: 'libs/service-health/Dockerfile' } });
    expect(await edges({ ...libraries, api: { root: 'apps/api', targets } })).toEqual(['api -> assets (implicit)', 'api -> docker (implicit)', 'api -> service-health (implicit)']);
  });

  it('reads {projectRoot}, {workspaceRoot} and absolute paths under the workspace, and takes the deepest project holding a path', async () => {
    const nested = { ...libraries, 'assets-icons': { root: 'libs/assets/icons' } };
    const targets = image({ context: '{workspaceRoot}/libs/assets/icons/svg', dockerfile: '{projectRoot}/Dockerfile' }, { abs: { context: '/workspace/libs/service-health' } });
    expect(await edges({ ...nested, api: { root: 'apps/api', targets } })).toEqual(['api -> assets-icons (implicit)', 'api -> service-health (implicit)']);
  });

  it('adds nothing for the default context and Dockerfile, a context in the project, build output, the workspace root, or a path outside it', async () => {
    const projects = {
      ...libraries,
      root: { root: '.' },
      api: { root: 'apps/api', targets: { build: { executor: '@nx/esbuild:esbuild', options: { outputPath: 'dist/apps/api' } }, ...image() } },
      admin: { root: 'apps/admin', targets: image({ context: 'apps/admin/public', dockerfile: 'apps/admin/Dockerfile' }) },
      media: { root: 'apps/media', targets: image({ context: 'dist/apps/media' }) },
      whole: { root: 'apps/whole', targets: image({ context: '.' }) },
      away: { root: 'apps/away', targets: image({ context: '../elsewhere/libs/assets' }) },
    };
    expect(await edges(projects)).toEqual([]);
  });

  it('looks at the image targets by the names the plugin options give them', async () => {
    const renamed: Record<string, TargetConfiguration> = { 'image-push': { executor: './tools/release-kit/executors:docker-build-push', options: { context: 'libs/assets' } } };
    expect(await edges({ ...libraries, nginx: { root: 'apps/nginx', targets: renamed } })).toEqual([]);
    expect(await edges({ ...libraries, nginx: { root: 'apps/nginx', targets: renamed } }, { pushTargetName: 'image-push' })).toEqual(['nginx -> assets (implicit)']);
  });
});

describe('nx affected -t docker-push with a build context in another project', () => {
  let workspace: ThrowawayWorkspace;
  beforeAll(async () => {
    workspace = await createThrowawayWorkspace(join(__dirname, '../../../..'));
  }, 120_000);
  afterAll(() => workspace?.remove());

  async function affectedImages(): Promise<string[]> {
    return (await nxJson<string[]>(workspace.root, ['show', 'projects', '--affected', '-t', 'docker-push', '--base=HEAD~1', '--head=HEAD', '--json'])).sort();
  }

  it('rebuilds nginx when the library its context option names changes, and only the images that use it', async () => {
    const projectFile = join(workspace.root, 'apps/nginx/project.json');
    const project = JSON.parse(await readFile(projectFile, 'utf8'));
    project.targets = { 'docker-push': { options: { context: 'libs/service-health' } } };
    await writeFile(projectFile, `${JSON.stringify(project, null, 2)}\n`);
    await workspace.commitAll('nginx built from the service-health folder');
    await appendFile(join(workspace.root, 'libs/service-health/README.md'), '\nA change no import sees.\n');
    await workspace.commitAll('change service-health');
    expect(await affectedImages()).toEqual(['api', 'media-api', 'nginx']);
  }, 60_000);
});
