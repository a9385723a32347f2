import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutorContext, ProjectConfiguration } from '@nx/devkit';
import { releaseTagPattern, serviceImageName, type WorkspaceImage } from '@changemaker/release-contract';
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
