import { someFilesOf, uncommittedFiles } from '@changemaker/release-flow';
import type { ExecutorContext } from '@nx/devkit';

/** The project's root and the roots of every workspace project it depends on, directly or not (npm packages aside). */
export function sourceRootsOf(context: ExecutorContext, projectName: string): string[] {
  const nodes = context.projectGraph?.nodes ?? {};
  const dependencies = context.projectGraph?.dependencies ?? {};
  const seen = new Set<string>([projectName]);
  const queue = [projectName];
  while (queue.length > 0) {
    for (const { target } of dependencies[queue.shift()!] ?? []) {
      if (nodes[target] && !seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  const rootOf = (name: string) => nodes[name]?.data.root ?? context.projectsConfigurations?.projects[name]?.root;
  return [...new Set([...seen].map(rootOf).filter((root): root is string => root !== undefined && root !== ''))].sort();
}

/**
 * Files under `roots` that differ from HEAD (release-flow's uncommittedFiles). Undefined when git
 * cannot tell (not a repository, no git): the build then reports the missing commit its own way.
 */
export async function uncommittedFilesUnder(workspaceRoot: string, roots: readonly string[]): Promise<string[] | undefined> {
  return roots.length === 0 ? [] : uncommittedFiles(workspaceRoot, roots);
}

/** One line: which files, and what to do instead of pushing them under the commit's tags. */
export function uncommittedRefusal(projectName: string, files: readonly string[]): string {
  return `${projectName}: not pushed: uncommitted changes in ${someFilesOf(files)} would be pushed as this commit's image; commit or stash them, or build a local image with docker-build`;
}
