import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import dockerignore from '@balena/dockerignore';

/**
 * The ignore file that applies to a build, as docker's BuildKit chooses it: the Dockerfile's own
 * `<Dockerfile>.dockerignore` beside it when there is one (a Dockerfile in apps/api whose context is
 * dist/apps/api), else the context's `.dockerignore`. buildah 1.28 and podman 4.3 choose their own
 * way (the Dockerfile's own file only when --file is absolute, and a context's `.containerignore`,
 * which docker never reads, over its `.dockerignore`: tested): they are handed this file with
 * --ignorefile, so the three engines send the same files, those the inputs hash hashes.
 */
export function ignoreFileFor(dockerfile: string, context: string): string | undefined {
  return [`${dockerfile}.dockerignore`, join(context, '.dockerignore')].find((file) => existsSync(file));
}

/** Which paths of the context (relative, with `/`) a build sends. */
export interface ContextFilter {
  sends(path: string): boolean;
  /** Whether a directory that is not sent may still hold a path that is (a `!` pattern re-includes it). */
  mayReinclude: boolean;
}

/**
 * The rules of an ignore file as docker applies them (moby's fileutils, ported by
 * @balena/dockerignore): `#` comments, `*`, `?`, `**`, `!` negation with the last match winning,
 * and a path excluded when a pattern matches it or one of its parent directories.
 */
export async function contextFilterOf(ignoreFile: string | undefined): Promise<ContextFilter> {
  if (!ignoreFile) return { sends: () => true, mayReinclude: false };
  const lines = (await readFile(ignoreFile, 'utf8')).replace(/^\uFEFF/, '').split(/\r?\n/);
  const rules = dockerignore().add(lines);
  return { sends: (path) => !rules.ignores(path), mayReinclude: lines.some((line) => line.trim().startsWith('!')) };
}
