import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
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

/**
 * A path a build sends, named relative to the context with `/`: a directory sent, a directory left
 * out that the image still holds because a `!` pattern sends something inside it (`parent`, listed
 * after what it holds), a regular file or a symbolic link. Other kinds (sockets, fifos) are not sent.
 */
export type SentEntry =
  | { kind: 'dir' | 'parent'; key: string; mode: number }
  | { kind: 'file'; key: string; path: string; mode: number; size: number }
  | { kind: 'link'; key: string; target: string };

/** Every path of `context` the filter lets through, each directory's entries in name order. */
export async function sentEntries(context: string, filter: ContextFilter): Promise<SentEntry[]> {
  const entries: SentEntry[] = [];
  await collectSent(entries, context, context, filter);
  return entries;
}

/** The files and links a build of `context` with this Dockerfile sends, relative to the context. */
export async function sentFiles(dockerfile: string, context: string): Promise<string[]> {
  const entries = await sentEntries(context, await contextFilterOf(ignoreFileFor(dockerfile, context)));
  return entries.filter((entry) => entry.kind === 'file' || entry.kind === 'link').map((entry) => entry.key);
}

/** Says whether anything under `directory` was sent. */
async function collectSent(entries: SentEntry[], root: string, directory: string, filter: ContextFilter): Promise<boolean> {
  let sentAny = false;
  for (const name of (await readdir(directory)).sort()) {
    const path = join(directory, name);
    const key = relative(root, path).split(sep).join('/');
    const sent = filter.sends(key);
    const stats = await lstat(path);
    if (stats.isDirectory()) {
      if (sent) entries.push({ kind: 'dir', key, mode: stats.mode });
      const sentInside = (sent || filter.mayReinclude) && (await collectSent(entries, root, path, filter));
      if (!sent && sentInside) entries.push({ kind: 'parent', key, mode: stats.mode });
      sentAny ||= sent || sentInside;
    } else if (!sent) {
      continue;
    } else if (stats.isSymbolicLink()) {
      entries.push({ kind: 'link', key, target: await readlink(path) });
      sentAny = true;
    } else if (stats.isFile()) {
      entries.push({ kind: 'file', key, path, mode: stats.mode, size: stats.size });
      sentAny = true;
    }
  }
  return sentAny;
}
