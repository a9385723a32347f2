import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';

/** The workspace's services with an image: the projects whose root holds a Dockerfile. */
export function workspaceServicesOf(context: ExecutorContext): string[] {
  return Object.entries(context.projectsConfigurations.projects)
    .filter(([, project]) => existsSync(join(context.root, project.root, 'Dockerfile')))
    .map(([name]) => name)
    .sort();
}
