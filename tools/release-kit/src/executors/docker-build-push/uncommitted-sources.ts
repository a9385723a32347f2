import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ignoreFileFor, sentFiles } from '@changemaker/image-build';
import { ignoredUntrackedPaths, someFilesOf, uncommittedFiles } from '@changemaker/release-flow';
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

/**
 * The files a build of `context` sends that git ignores (an apps/nginx/templates/.env.local): no
 * commit holds them, yet the image pushed under the commit's tags would. None for a context git
 * ignores as a whole, which is a build output (dist/apps/api), nor for a context that does not
 * exist (the build says so). Named from the workspace root; undefined when git cannot tell.
 */
export async function ignoredFilesSent(workspaceRoot: string, dockerfile: string, context: string): Promise<string[] | undefined> {
  if (!existsSync(context)) return [];
  const ignored = await ignoredUntrackedPaths(context);
  if (!ignored || ignored.length === 0) return ignored;
  const files = new Set(ignored.filter((path) => !path.endsWith('/')));
  const directories = ignored.filter((path) => path.endsWith('/'));
  const isIgnored = (file: string) => files.has(file) || directories.some((directory) => file.startsWith(directory));
  return (await sentFiles(dockerfile, context)).filter(isIgnored).map((file) => relative(workspaceRoot, join(context, file)));
}

/** One line: which files, why the image must not take them, and the two ways out. */
export function ignoredFilesRefusal(projectName: string, files: readonly string[], workspaceRoot: string, dockerfile: string, context: string): string {
  const ignoreFile = relative(workspaceRoot, ignoreFileFor(dockerfile, context) ?? `${dockerfile}.dockerignore`);
  const them = files.length === 1 ? 'it' : 'them';
  return `${projectName}: not pushed: ${someFilesOf(files)} would go into this commit's image, yet git ignores ${them}, so the commit does not hold ${them}; delete ${them}, or leave ${them} out in ${ignoreFile}`;
}
