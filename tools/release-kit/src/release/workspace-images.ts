import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutorContext, ProjectConfiguration } from '@nx/devkit';
import { registryFrom, releasePublishTargetName, releaseTagPattern, serviceImageName, type WorkspaceImage } from '@changemaker/release-contract';
import { executorNamed } from '../executor-names';

const imageExecutor = executorNamed('docker-build-push');

/** The workspace root and its projects' configurations, as an executor's context or the project graph gives them. */
export interface WorkspaceProjects {
  root: string;
  projects: Record<string, ProjectConfiguration>;
}

export function workspaceProjectsOf(context: ExecutorContext): WorkspaceProjects {
  return { root: context.root, projects: context.projectsConfigurations.projects };
}

/**
 * The workspace's images: the projects whose root holds a Dockerfile, each with the repository its
 * release target pushes `v{version}` to, by the imageName that target is given (the plugin's, or
 * the project's own), so the release looks for each image where it was pushed.
 */
export function workspaceImagesOf(workspace: WorkspaceProjects): WorkspaceImage[] {
  return Object.entries(workspace.projects)
    .filter(([, project]) => existsSync(join(workspace.root, project.root, 'Dockerfile')))
    .map(([name, project]) => ({ project: name, repository: serviceImageName(name, imageNamePatternOf(project)) }))
    .sort((a, b) => (a.project < b.project ? -1 : 1));
}

/** The release target's imageName: the image target that pushes v{version}, else any image target. */
function imageNamePatternOf(project: ProjectConfiguration): string | undefined {
  const imageTargets = Object.values(project.targets ?? {}).filter((target) => target.executor === imageExecutor);
  const released = imageTargets.find((target) => (target.options?.tags as unknown[] | undefined)?.includes(releaseTagPattern));
  return (released ?? imageTargets[0])?.options?.imageName as string | undefined;
}

/**
 * Why the product's release would look for its images in another registry than its image tasks
 * push them to, or undefined: an image's release target given a `registry` of its own (in its
 * project.json, or in targetDefaults by executor) pushes there, while the release checks, records
 * and packages the images in the product's (the plugin's option, else GITEA_REGISTRY).
 */
export function imageRegistryProblem(workspace: WorkspaceProjects, productRegistryOption: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const productRegistry = productRegistryOption ?? registryFrom(env);
  for (const [name, project] of Object.entries(workspace.projects)) {
    const target = project.targets?.[releasePublishTargetName];
    if (target?.executor !== imageExecutor) continue;
    const registry = (target.options?.registry as string | undefined) ?? registryFrom(env);
    if (registry !== productRegistry) {
      return `${name}'s ${releasePublishTargetName} pushes its image to ${registry}, but the release checks, records and packages the images in ${productRegistry}: set registry once, in the plugin's options in nx.json, which give it to every release target, and not on one target (project.json, targetDefaults)`;
    }
  }
  return undefined;
}
