import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import dockerignore from '@balena/dockerignore';
import { AmbiguousIgnorePatternError } from './errors';

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
 * and a path excluded when a pattern matches it or one of its parent directories. Case-sensitive,
 * as on Linux: `README.md` leaves `readme.md` in the context, so the hash must see it.
 */
export async function contextFilterOf(ignoreFile: string | undefined): Promise<ContextFilter> {
  if (!ignoreFile) return { sends: () => true, mayReinclude: false };
  const lines = (await readFile(ignoreFile, 'utf8')).replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, index) => checkPatternIsReadOneWay(ignoreFile, index + 1, line));
  const rules = dockerignore({ ignorecase: false }).add(lines);
  return { sends: (path) => !rules.ignores(path), mayReinclude: lines.some((line) => line.trim().startsWith('!')) };
}

/**
 * docker's current matcher (moby/patternmatcher) takes `+ ( ) { } |` literally; docker 20.10,
 * buildah 1.28 and podman 4.3 (older copies of it) and @balena/dockerignore pass them to a regular
 * expression (tested): `file(1).txt` leaves out `file1.txt` there, and `c++` stops the build. The
 * engines would send different files, and the hash could follow only one; escaped, all read them alike.
 */
function checkPatternIsReadOneWay(ignoreFile: string, lineNumber: number, line: string): void {
  if (line.startsWith('#')) return;
  for (let index = 0; index < line.length; index++) {
    const character = line[index];
    if (character === '\\') index++;
    else if ('+(){}|'.includes(character)) throw new AmbiguousIgnorePatternError(ignoreFile, lineNumber, line.trim(), character);
  }
}
