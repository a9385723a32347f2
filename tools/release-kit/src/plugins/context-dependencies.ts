import { isAbsolute, posix, relative } from 'node:path';
// Types only, as in docker-targets.ts: the graph is computed by every nx command.
import type { CreateDependencies, DependencyType, ProjectConfiguration, RawProjectGraphDependency, TargetConfiguration } from '@nx/devkit';
import { imageTargetNamesOf, type DockerTargetsOptions } from './plugin-options';

// DependencyType.implicit, without loading @nx/devkit for one string.
const implicitDependency = 'implicit' as DependencyType.implicit;

/**
 * An image is made of its Dockerfile and its build context. When an image target's options take
 * either from another project (a context of libs/assets, a Dockerfile kept in docker/images), no
 * import or file of the image project says so, and `nx affected` would not rebuild the image when
 * that project changes, though its inputs hash (and its content) would. The image project depends
 * on the project holding each such path (a project at the workspace root holds none). A context
 * holding other projects (the workspace root) is not followed: a change to them marks the image
 * only through its imports.
 */
export const createContextDependencies: CreateDependencies<DockerTargetsOptions> = (options, context) => {
  const targetNames = imageTargetNamesOf(options);
  const roots = Object.entries(context.projects)
    .map(([name, project]) => ({ name, root: normalizedPath(project.root) }))
    // A project at the workspace root would hold every path, build outputs in dist/ too.
    .filter(({ root }) => root !== '')
    .sort((a, b) => b.root.length - a.root.length);
  const dependencies: RawProjectGraphDependency[] = [];
  for (const [name, project] of Object.entries(context.projects)) {
    const owners = new Set<string>();
    for (const path of targetNames.flatMap((targetName) => buildPathsOf(project, project.targets?.[targetName], context.workspaceRoot))) {
      const owner = roots.find(({ root }) => path === root || path.startsWith(`${root}/`));
      if (owner && owner.name !== name) owners.add(owner.name);
    }
    for (const owner of [...owners].sort()) dependencies.push({ source: name, target: owner, type: implicitDependency });
  }
  return dependencies;
};

/** The context and Dockerfile a target's options (and each of its configurations) name, from the workspace root. */
function buildPathsOf(project: ProjectConfiguration, target: TargetConfiguration | undefined, workspaceRoot: string): string[] {
  const optionSets = [target?.options, ...Object.values(target?.configurations ?? {})] as Array<Record<string, unknown> | undefined>;
  return optionSets
    .flatMap((set) => [set?.['context'], set?.['dockerfile']])
    .filter((value): value is string => typeof value === 'string' && value !== '')
    .map((value) => value.replaceAll('{projectRoot}', project.root).replaceAll('{workspaceRoot}', workspaceRoot))
    .map((value) => (isAbsolute(value) ? relative(workspaceRoot, value) : value))
    .filter((value) => !value.startsWith('..'))
    .map(normalizedPath);
}

/** `./libs/x/` and `libs//x` are `libs/x`; the workspace root is ''. */
function normalizedPath(path: string): string {
  const normalized = posix.normalize(path.split('\\').join('/')).replace(/\/+$/, '');
  return normalized === '.' ? '' : normalized.replace(/^\.\//, '');
}
