import { existsSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
// Types only, as in docker-targets.ts: the graph is computed by every nx command.
import type { CreateDependencies, CreateDependenciesContext, DependencyType, ProjectConfiguration, RawProjectGraphDependency, TargetConfiguration } from '@nx/devkit';
import { imageTargetNamesOf, type DockerTargetsOptions } from './plugin-options';

const implicitDependency = 'implicit' as DependencyType.implicit;

interface PackageFile {
  name?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/**
 * An image is made of its sources and by the code that builds it: the executor of its docker-build
 * target and of the targets that run before it (build: @nx/esbuild, which bundles with esbuild).
 * Nx's import analysis sees only the sources, so with `projectsAffectedByDependencyUpdates: 'auto'`
 * a lock-file change to esbuild, or to a package the docker-build-push executor uses, would mark no
 * image. These edges, from each project to the npm packages of the executors of its image targets,
 * let `nx affected` walk from any changed package to every image it helps build.
 *
 * An executor maps to packages as Nx loads it: an npm package is its own node (the lock file gives
 * what it depends on); a local plugin (a workspace project whose package.json has the executor's
 * package name, or the project holding the directory an executor is named by, `./tools/kit:name`)
 * is that project, so a change to its code or the libraries it imports (the build recipe, how
 * labels or layers are made) marks the image too, and the packages its package.json (the
 * collection's, for a directory) declares (dependencies, peerDependencies, optionalDependencies). A command (nx:run-commands, nx:run-script), an executor found nowhere, or a
 * local plugin whose package.json declares nothing could run anything installed: that is every
 * package the root package.json names, so every lock-file change marks the image, as without 'auto'.
 */
export const createToolchainDependencies: CreateDependencies<DockerTargetsOptions> = (options, context) => {
  const packages = new ExecutorPackages(context);
  const targetNames = targetsRunFor(imageTargetNamesOf(options), context.projects);
  const dependencies: RawProjectGraphDependency[] = [];
  for (const [name, project] of Object.entries(context.projects)) {
    const nodes = new Set<string>();
    for (const targetName of targetNames) {
      const target = project.targets?.[targetName];
      if (target) packages.nodesOf(executorOf(target)).forEach((node) => nodes.add(node));
    }
    for (const node of [...nodes].sort()) dependencies.push({ source: name, target: node, type: implicitDependency });
  }
  return dependencies;
};

/** The image targets and every target they run first, here or in a dependency (`^build`), by name. */
function targetsRunFor(imageTargets: readonly string[], projects: Record<string, ProjectConfiguration>): Set<string> {
  const names = new Set(imageTargets);
  const pending = [...imageTargets];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    for (const project of Object.values(projects)) {
      for (const dependsOn of project.targets?.[name]?.dependsOn ?? []) {
        const next = typeof dependsOn === 'string' ? dependsOn.replace(/^\^/, '') : dependsOn.target;
        if (next && !names.has(next)) {
          names.add(next);
          pending.push(next);
        }
      }
    }
  }
  return names;
}

/** A target written as a command is run by nx:run-commands. */
function executorOf(target: TargetConfiguration): string {
  return target.executor ?? (target.command ? 'nx:run-commands' : 'nx:noop');
}

class ExecutorPackages {
  private localPlugins?: Map<string, LocalPlugin>;
  private everyPackage?: string[];

  constructor(private readonly context: CreateDependenciesContext) {}

  nodesOf(executor: string): string[] {
    if (executor === 'nx:noop') return [];
    if (executor === 'nx:run-commands' || executor === 'nx:run-script') return this.allPackages();
    const separator = executor.lastIndexOf(':');
    const collection = separator > 0 ? executor.slice(0, separator) : executor;
    const byPath = isPathFromWorkspaceRoot(collection);
    const installed = byPath ? [] : this.nodesNamed([collection]);
    if (installed.length > 0) return installed;
    const local = byPath ? this.collectionAt(collection) : this.localPlugin(collection);
    if (!local) return this.allPackages();
    return [local.project, ...(declaresDependencies(local.file) ? this.nodesNamed(declaredPackages(local.file)) : this.allPackages())];
  }

  /** The copy installed at the top of node_modules, which is what the workspace loads; every copy when none is. */
  private nodesNamed(packageNames: readonly string[]): string[] {
    const externalNodes = this.context.externalNodes ?? {};
    return packageNames.flatMap((packageName) => {
      const hoisted = `npm:${packageName}`;
      if (externalNodes[hoisted]) return [hoisted];
      return Object.keys(externalNodes).filter((name) => externalNodes[name].data.packageName === packageName);
    });
  }

  private allPackages(): string[] {
    this.everyPackage ??= this.nodesNamed(declaredPackages(readPackageFile(this.context.workspaceRoot) ?? {}, { dev: true }));
    return this.everyPackage;
  }

  /** An executor named by its collection's directory: the project that directory is in, with the collection's package.json. */
  private collectionAt(path: string): LocalPlugin | undefined {
    const directory = normalize(path);
    const file = readPackageFile(join(this.context.workspaceRoot, directory));
    const owner = Object.entries(this.context.projects)
      .filter(([, { root }]) => root === '.' || directory === root || directory.startsWith(`${root}/`))
      .sort(([, a], [, b]) => b.root.length - a.root.length)[0];
    return file && owner ? { project: owner[0], file } : undefined;
  }

  private localPlugin(packageName: string): LocalPlugin | undefined {
    this.localPlugins ??= new Map(
      Object.entries(this.context.projects).flatMap(([project, { root }]) => {
        const file = readPackageFile(join(this.context.workspaceRoot, root));
        return file?.name ? [[file.name, { project, file }] as const] : [];
      }),
    );
    return this.localPlugins.get(packageName);
  }
}

/** A workspace project that is an Nx plugin: its name in the graph and its package.json. */
interface LocalPlugin {
  project: string;
  file: PackageFile;
}

/** A package.json without any of these fields says nothing of what its code loads. */
function declaresDependencies(file: PackageFile): boolean {
  return Boolean(file.dependencies ?? file.peerDependencies ?? file.optionalDependencies);
}

/** What a package needs installed to run; a local plugin's devDependencies are not loaded by its executors. */
function declaredPackages(file: PackageFile, { dev = false } = {}): string[] {
  return Object.keys({ ...file.dependencies, ...file.peerDependencies, ...file.optionalDependencies, ...(dev ? file.devDependencies : {}) });
}

/** As Nx reads an executor's collection: `./tools/x:name` is a directory from the workspace root, not a package. */
function isPathFromWorkspaceRoot(collection: string): boolean {
  return collection.startsWith('./') || collection.startsWith('../');
}

function readPackageFile(directory: string): PackageFile | undefined {
  const path = join(directory, 'package.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as PackageFile) : undefined;
}
