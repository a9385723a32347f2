import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CreateDependenciesContext, ProjectConfiguration, ProjectGraphExternalNode } from '@nx/devkit';
import { createThrowawayWorkspace, nxJson, type ThrowawayWorkspace } from '@changemaker/testing';
import { createToolchainDependencies } from './toolchain-dependencies';

const workspaceRoot = join(__dirname, '../../../..');

function externalNode(name: string, packageName = name.replace(/^npm:/, '').replace(/(.)@.*$/, '$1')): [string, ProjectGraphExternalNode] {
  return [name, { type: 'npm', name: name as `npm:${string}`, data: { packageName, version: '1.0.0' } }];
}

describe('toolchain dependencies', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'toolchain-dependencies-'));
    await writePackage('.', { name: 'workspace', dependencies: { express: '5.0.0' }, devDependencies: { jest: '30.0.0', '@nx/esbuild': '23.0.0' } });
    await writePackage('tools/kit', { name: '@acme/kit', dependencies: { execa: '9.0.0' }, peerDependencies: { nx: '23.0.0' }, devDependencies: { jest: '30.0.0' } });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  async function writePackage(directory: string, content: object): Promise<void> {
    await mkdir(join(root, directory), { recursive: true });
    await writeFile(join(root, directory, 'package.json'), JSON.stringify(content));
  }

  const externalNodes = Object.fromEntries(
    ['npm:express', 'npm:jest', 'npm:@nx/esbuild', 'npm:execa', 'npm:execa@5.1.1', 'npm:nx', 'npm:@nx/js', 'npm:left-pad@1.0.0'].map((name) => externalNode(name)),
  );

  const docker = { executor: '@acme/kit:docker-build-push', dependsOn: ['build'] };
  const esbuild = { executor: '@nx/esbuild:esbuild', dependsOn: ['^build'] };
  const tests = { executor: 'nx:run-commands', options: { command: 'jest' } };

  function contextOf(projects: Record<string, Partial<ProjectConfiguration>>): CreateDependenciesContext {
    return {
      externalNodes,
      nxJsonConfiguration: {},
      workspaceRoot: root,
      projects: Object.fromEntries(Object.entries(projects).map(([name, project]) => [name, { root: name, ...project } as ProjectConfiguration])),
      fileMap: { nonProjectFiles: [], projectFileMap: {} },
      filesToProcess: { nonProjectFiles: [], projectFileMap: {} },
    };
  }

  async function edges(projects: Record<string, Partial<ProjectConfiguration>>): Promise<string[]> {
    const dependencies = await createToolchainDependencies(undefined, contextOf(projects));
    return dependencies.map(({ source, target, type }) => `${source} -> ${target} (${type})`);
  }

  it("makes an image depend on its build's executor package, on the local plugin's project and on what its package.json declares, not its dev tools", async () => {
    const found = await edges({
      'apps/api': { root: 'apps/api', targets: { 'docker-build': docker, 'docker-push': docker, build: esbuild, test: tests } },
      'tools/kit': { root: 'tools/kit', targets: {} },
    });
    // Hoisted copies only: execa@5.1.1 belongs to whatever nests it.
    expect(found).toEqual(['apps/api -> npm:@nx/esbuild (implicit)', 'apps/api -> npm:execa (implicit)', 'apps/api -> npm:nx (implicit)', 'apps/api -> tools/kit (implicit)']);
  });

  it('follows ^build into the dependencies that an image build runs first', async () => {
    const found = await edges({
      'apps/api': { targets: { 'docker-build': docker, build: esbuild } },
      'libs/shared': { targets: { build: { executor: '@nx/js:tsc' }, test: tests } },
      'tools/kit': { targets: {} },
    });
    expect(found).toContain('libs/shared -> npm:@nx/js (implicit)');
    expect(found.filter((edge) => edge.startsWith('libs/shared'))).toEqual(['libs/shared -> npm:@nx/js (implicit)']);
  });

  it('treats a build by command, or by an executor found nowhere, as using every package the root package.json names', async () => {
    const everything = ['npm:@nx/esbuild', 'npm:express', 'npm:jest'];
    const byCommand = await edges({ 'apps/site': { targets: { 'docker-build': { executor: '@acme/missing:docker' }, build: { command: 'make site' } } } });
    expect(byCommand).toEqual([...everything].sort().map((node) => `apps/site -> ${node} (implicit)`));
  });

  it('treats a local plugin whose package.json declares no dependencies as using every package', async () => {
    await writePackage('tools/kit', { name: '@acme/kit', devDependencies: { jest: '30.0.0' } });
    const found = await edges({ 'apps/nginx': { targets: { 'docker-build': { executor: '@acme/kit:docker-build-push' } } }, 'tools/kit': { targets: {} } });
    expect(found).toEqual(['npm:@nx/esbuild', 'npm:express', 'npm:jest', 'tools/kit'].map((node) => `apps/nginx -> ${node} (implicit)`));
  });

  it("maps an executor named by its collection's directory (./tools/kit/executors:name) to the project holding it and what that package.json declares", async () => {
    await writePackage('tools/kit', { name: 'not-the-collection' });
    await writePackage('tools/kit/executors', { dependencies: { execa: '9.0.0' } });
    const found = await edges({ 'apps/api': { targets: { 'docker-build': { executor: './tools/kit/executors:docker-build-push' } } }, tools: { targets: {} }, 'tools/kit': { targets: {} } });
    expect(found).toEqual(['apps/api -> npm:execa (implicit)', 'apps/api -> tools/kit (implicit)']);
  });

  it('treats a collection directory with no package.json, or in no project, as using every package', async () => {
    const everything = ['npm:@nx/esbuild', 'npm:express', 'npm:jest'].map((node) => `apps/api -> ${node} (implicit)`);
    expect(await edges({ 'apps/api': { targets: { 'docker-build': { executor: './tools/kit/missing:docker' } } }, 'tools/kit': { targets: {} } })).toEqual(everything);
    await writePackage('elsewhere/executors', { dependencies: { execa: '9.0.0' } });
    expect(await edges({ 'apps/api': { targets: { 'docker-build': { executor: './elsewhere/executors:docker' } } } })).toEqual(everything);
  });

  it('adds nothing for targets an image build does not run', async () => {
    expect(await edges({ 'libs/shared': { targets: { test: tests, build: esbuild } } })).toEqual([]);
  });

  it('follows the target names the plugin options give', async () => {
    const dependencies = await createToolchainDependencies(
      { buildTargetName: 'image' },
      contextOf({ 'apps/api': { targets: { image: { executor: '@nx/esbuild:esbuild' }, 'docker-build': { command: 'make' } } } }),
    );
    expect(dependencies.map(({ target }) => target)).toEqual(['npm:@nx/esbuild']);
  });
});

/**
 * The code that builds the images lives in this workspace (tools/release-kit and the libraries it
 * imports): a change to it can change every image (a new build recipe, other labels), so it marks
 * every image, and the inputs hash then says which must be built.
 */
describe('nx affected -t docker-push after a change to the toolchain\'s own code', () => {
  let workspace: ThrowawayWorkspace;
  beforeAll(async () => {
    workspace = await createThrowawayWorkspace(workspaceRoot);
  }, 120_000);
  afterAll(() => workspace?.remove());

  it('marks every image, on-demand ones too, for a change to the library the docker-build-push executor builds with', async () => {
    await appendFile(join(workspace.root, 'libs/image-build/src/inputs-hash.ts'), '\n// a new build recipe, say\n');
    await workspace.commitAll('change the image build library');
    const affected = await nxJson<string[]>(workspace.root, ['show', 'projects', '--affected', '-t', 'docker-push', '--base=HEAD~1', '--head=HEAD', '--json']);
    expect(affected.sort()).toEqual(['admin', 'api', 'code-server', 'media-api', 'nginx']);
  }, 60_000);
});

/**
 * The docker-build-push executor runs from this collection, so a lock-file bump of a package it loads
 * marks every image only if its package.json declares that package: the declared packages must be
 * exactly the ones its non-test code, the workspace libraries that code imports, and the compiler
 * that compiles it (load-compiled.js, compile-plugin.js) load at run time.
 */
describe("release-kit's executors/package.json", () => {
  const manifest = JSON.parse(readFileSync(join(workspaceRoot, 'tools/release-kit/executors/package.json'), 'utf8'));
  const rootManifest = JSON.parse(readFileSync(join(workspaceRoot, 'package.json'), 'utf8'));
  const declared = { ...manifest.dependencies, ...manifest.peerDependencies } as Record<string, string>;

  it('declares every npm package the plugin loads at run time, and nothing else', () => {
    const compiler = ['load-compiled.js', 'compile-plugin.js']
      .flatMap((file) => runtimeImportsOf(readFileSync(join(workspaceRoot, 'tools/release-kit', file), 'utf8')))
      .filter((specifier) => !specifier.startsWith('node:'));
    expect(Object.keys(declared).sort()).toEqual([...new Set([...runtimePackagesOf(join(workspaceRoot, 'tools/release-kit/src')), ...compiler])].sort());
  });

  it("declares them at the root package.json's versions", () => {
    for (const [name, version] of Object.entries(declared)) {
      expect({ name, version }).toEqual({ name, version: rootManifest.dependencies[name] ?? rootManifest.devDependencies[name] });
    }
  });
});

/** Bare specifiers of non-type imports in the non-test .ts files under a directory, following @changemaker/* libraries. */
function runtimePackagesOf(sourceRoot: string): Set<string> {
  const paths = JSON.parse(readFileSync(join(workspaceRoot, 'tsconfig.base.json'), 'utf8')).compilerOptions.paths as Record<string, string[]>;
  const packages = new Set<string>();
  const visited = new Set<string>();
  const pending = [sourceRoot];
  for (let directory = pending.pop(); directory !== undefined; directory = pending.pop()) {
    if (visited.has(directory)) continue;
    visited.add(directory);
    for (const file of sourceFilesUnder(directory)) {
      for (const specifier of runtimeImportsOf(readFileSync(file, 'utf8'))) {
        if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
        const mapped = paths[specifier]?.[0];
        if (mapped) pending.push(join(workspaceRoot, dirname(mapped)));
        else packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
      }
    }
  }
  return packages;
}

function sourceFilesUnder(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return sourceFilesUnder(path);
    return /\.ts$/.test(name) && !/\.(spec|test)\.ts$|\.d\.ts$/.test(name) ? [path] : [];
  });
}

function runtimeImportsOf(source: string): string[] {
  const statements = source.match(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'[^']+'/gm) ?? [];
  const fromStatements = statements.filter((statement) => !/^\s*(?:import|export)\s+type\s/.test(statement)).map((statement) => /'([^']+)'$/.exec(statement)?.[1] ?? '');
  const sideEffects = [...source.matchAll(/^\s*import\s+'([^']+)'/gm)].map((match) => match[1]);
  const dynamic = [...source.matchAll(/\b(?:import|require)\(\s*'([^']+)'\s*\)/g)].map((match) => match[1]);
  return [...fromStatements, ...sideEffects, ...dynamic];
}
