import type { CreateDependenciesContext, ProjectConfiguration } from '@nx/devkit';
import { createDependencies } from './product-dependencies';

/** What nx hands the plugin: each project's configuration and the files under its root. */
function workspaceOf(projects: Record<string, { root: string; files: string[]; tags?: string[] }>, nxJsonConfiguration: CreateDependenciesContext['nxJsonConfiguration'] = {}): CreateDependenciesContext {
  return {
    externalNodes: {},
    nxJsonConfiguration,
    workspaceRoot: '/workspace',
    projects: Object.fromEntries(Object.entries(projects).map(([name, { root, tags }]) => [name, { name, root, tags } as ProjectConfiguration])),
    fileMap: { nonProjectFiles: [], projectFileMap: Object.fromEntries(Object.entries(projects).map(([name, { files }]) => [name, files.map((file) => ({ file, hash: 'h' }))])) },
    filesToProcess: { nonProjectFiles: [], projectFileMap: {} },
  };
}

const products = (dependencies: Awaited<ReturnType<typeof createDependencies>>) => dependencies.map(({ source, target, type }) => `${source} -> ${target} (${type})`);

describe('product dependencies', () => {
  const workspace = {
    docker: { root: 'docker', files: ['docker/VERSION', 'docker/docker-compose.prod.yml'] },
    api: { root: 'apps/api', files: ['apps/api/Dockerfile', 'apps/api/src/main.ts'] },
    nginx: { root: 'apps/nginx', files: ['apps/nginx/Dockerfile'] },
    'code-server': { root: 'apps/code-server', files: ['apps/code-server/Dockerfile'], tags: ['docker:on-demand'] },
    'service-health': { root: 'libs/service-health', files: ['libs/service-health/src/index.ts'] },
    fixtures: { root: 'libs/testing', files: ['libs/testing/fixtures/Dockerfile.example'] },
  };

  it('makes the project with the VERSION file depend on every image project but the on-demand ones', async () => {
    expect(products(await createDependencies(undefined, workspaceOf(workspace)))).toEqual(['docker -> api (implicit)', 'docker -> nginx (implicit)']);
  });

  it('takes a new service into the next release without anyone listing it', async () => {
    const withWorker = { ...workspace, worker: { root: 'apps/worker', files: ['apps/worker/Dockerfile'] } };
    expect(products(await createDependencies(undefined, workspaceOf(withWorker)))).toContain('docker -> worker (implicit)');
  });

  it('follows the on-demand tag set in the plugin options, and infers nothing without a VERSION file', async () => {
    expect(products(await createDependencies({ onDemandTag: 'manual' }, workspaceOf(workspace)))).toContain('docker -> code-server (implicit)');
    const { docker: _product, ...imagesOnly } = workspace;
    expect(await createDependencies(undefined, workspaceOf(imagesOnly))).toEqual([]);
  });

  it("with a second project holding a VERSION file (a docs site's), makes only the product nx.json's release names depend on the images", async () => {
    const withDocs = { ...workspace, docs: { root: 'apps/docs', files: ['apps/docs/VERSION'] } };
    expect(products(await createDependencies(undefined, workspaceOf(withDocs, { release: { projects: ['docker'] } })))).toEqual(['docker -> api (implicit)', 'docker -> nginx (implicit)']);
    expect(await createDependencies(undefined, workspaceOf(withDocs))).toEqual([]);
  });
});
