import { executorNamed } from '../executor-names';

/** A project as both Nx's graph and an executor's context give it: its targets' executors and options. */
interface ProjectTargets {
  targets?: Record<string, { executor?: string; options?: { gitRemote?: unknown } }>;
}

/** The remote the product's release pushes to: its release-product target's gitRemote (default origin). */
export function gitRemoteOf(project: ProjectTargets | undefined): string {
  const target = Object.values(project?.targets ?? {}).find((candidate) => candidate.executor === executorNamed('release-product'));
  return typeof target?.options?.gitRemote === 'string' ? target.options.gitRemote : 'origin';
}
