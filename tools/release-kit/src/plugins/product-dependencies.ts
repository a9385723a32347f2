import { posix } from 'node:path';
import { versionFileName } from '@changemaker/release-contract';
// Types only, as in docker-targets.ts: the graph is computed by every nx command.
import type { CreateDependencies, CreateDependenciesContext, DependencyType, RawProjectGraphDependency } from '@nx/devkit';
import { onDemandTagOf, type DockerTargetsOptions } from './plugin-options';
import { productOf } from './released-product';

// DependencyType.implicit, without loading @nx/devkit for one string.
const implicitDependency = 'implicit' as DependencyType.implicit;

/**
 * The product (of the projects with a VERSION file, the one productOf picks) ships the workspace's service images, so it
 * depends on every project with a Dockerfile except the on-demand ones: its nx-release-publish runs
 * after theirs, and a new service is part of the next release without anyone listing it.
 */
export const createDependencies: CreateDependencies<DockerTargetsOptions> = (options, context) => {
  const onDemandTag = onDemandTagOf(options);
  const product = productOf(projectsWithFile(context, versionFileName).map((project) => ({ project })), context.nxJsonConfiguration?.release)?.project;
  if (product === undefined) return [];
  const images = projectsWithFile(context, 'Dockerfile').filter((name) => !(context.projects[name]?.tags ?? []).includes(onDemandTag));
  return images.filter((image) => image !== product).map((image): RawProjectGraphDependency => ({ source: product, target: image, type: implicitDependency }));
};

function projectsWithFile(context: CreateDependenciesContext, fileName: string): string[] {
  return Object.entries(context.projects)
    .filter(([name, project]) => (context.fileMap.projectFileMap[name] ?? []).some((file) => file.file === posix.join(project.root, fileName)))
    .map(([name]) => name);
}

