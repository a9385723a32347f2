import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import { mapAtMost } from '@changemaker/oci';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ControlCharacterPathError, PathOutsideWorkspaceError, SourceNotFoundError, SymlinkRefusedError } from './bundle-errors';
import { GlobPattern } from './glob-pattern';
import type { ReleaseFileList } from './release-file-list';
import type { SourceFile } from './source-file';

const EXECUTABLE_BITS = 0o111;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * Reads every file the list names (a plain directory means all of its files), refusing symlinks
 * and anything that resolves outside the workspace, so a release can only ever carry the
 * workspace's own regular files.
 */
export async function collectSources(workspaceRoot: string, fileList: ReleaseFileList): Promise<SourceFile[]> {
  const root = await realpath(workspaceRoot);
  const sourceRoot = resolve(root, fileList.sourceRoot);
  refuseOutside(root, sourceRoot, fileList.sourceRoot);
  const relativePaths = new Set<string>();
  for (const source of fileList.sources) {
    for (const path of await expandSource(root, sourceRoot, source)) relativePaths.add(path);
  }
  return mapAtMost([...relativePaths], filesReadAtOnce, (path) => readSourceFile(root, sourceRoot, path, fileList.renames[path] ?? path));
}

/**
 * Files open at once while reading: all at once ran out of file descriptors (EMFILE) on a docs tree
 * of a thousand pages under Linux's usual limit of 1024, and of 256 under macOS's.
 */
const filesReadAtOnce = 32;

async function expandSource(root: string, sourceRoot: string, source: string): Promise<string[]> {
  const absolute = resolve(sourceRoot, source);
  refuseOutside(root, absolute, workspacePathOf(root, absolute));
  if (!GlobPattern.isGlob(source)) {
    const stats = await lstat(absolute).catch(() => undefined);
    if (!stats) throw new SourceNotFoundError(workspacePathOf(root, absolute));
    const path = toPosix(relative(sourceRoot, absolute));
    return stats.isDirectory() ? walk(root, sourceRoot, path) : [path];
  }
  const pattern = new GlobPattern(toPosix(relative(sourceRoot, absolute)));
  const matches = (await walk(root, sourceRoot, pattern.base)).filter((path) => pattern.matches(path));
  if (matches.length === 0) throw new SourceNotFoundError(workspacePathOf(root, absolute));
  return matches;
}

/**
 * Lists files below `directory` (relative to sourceRoot); symlinks are listed, never followed.
 * A name with a control character is refused: a glob never matches a newline, so such a file
 * would be left out without a word, and an escape sequence would reach the terminal in reports.
 */
async function walk(root: string, sourceRoot: string, directory: string): Promise<string[]> {
  const entries = await readdir(join(sourceRoot, directory), { withFileTypes: true }).catch(() => []);
  const paths: string[] = [];
  for (const entry of entries) {
    const path = directory === '' ? entry.name : `${directory}/${entry.name}`;
    if (CONTROL_CHARACTER.test(entry.name)) throw new ControlCharacterPathError(workspacePathOf(root, join(sourceRoot, path)));
    if (entry.isDirectory()) paths.push(...(await walk(root, sourceRoot, path)));
    else paths.push(path);
  }
  return paths;
}

async function readSourceFile(root: string, sourceRoot: string, path: string, bundlePath: string): Promise<SourceFile> {
  const absolute = join(sourceRoot, path);
  const workspacePath = workspacePathOf(root, absolute);
  const stats = await lstat(absolute);
  if (stats.isSymbolicLink()) throw new SymlinkRefusedError(workspacePath);
  const real = await realpath(absolute);
  refuseOutside(root, real, workspacePath);
  // A symlinked parent directory is as much a symlink in the release as a symlinked file.
  if (real !== absolute) throw new SymlinkRefusedError(workspacePath);
  if (!stats.isFile()) throw new SourceNotFoundError(workspacePath);
  return {
    workspacePath,
    bundlePath,
    executable: (stats.mode & EXECUTABLE_BITS) !== 0,
    content: await readFile(absolute),
  };
}

/**
 * Whether the file list picks a workspace path (a file git knows of, say) by the rules
 * collectSources applies to the checkout: a listed file, anything below a listed directory, or a
 * glob's match.
 */
export async function sourceSelector(workspaceRoot: string, fileList: ReleaseFileList): Promise<(workspacePath: string) => boolean> {
  const root = await realpath(workspaceRoot);
  const sourceRoot = resolve(root, fileList.sourceRoot);
  const tests = fileList.sources.map((source): ((workspacePath: string) => boolean) => {
    const absolute = resolve(sourceRoot, source);
    if (!GlobPattern.isGlob(source)) {
      const listed = workspacePathOf(root, absolute);
      return (path) => listed === '' || path === listed || path.startsWith(`${listed}/`);
    }
    const pattern = new GlobPattern(toPosix(relative(sourceRoot, absolute)));
    return (path) => pattern.matches(toPosix(relative(sourceRoot, join(root, path))));
  });
  return (path) => tests.some((test) => test(path));
}

function refuseOutside(root: string, absolute: string, shownAs: string): void {
  const fromRoot = relative(root, absolute);
  if (fromRoot === '..' || fromRoot.startsWith(`..${sep}`) || isAbsolute(fromRoot)) {
    throw new PathOutsideWorkspaceError(shownAs);
  }
}

function workspacePathOf(root: string, absolute: string): string {
  return toPosix(relative(root, absolute));
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}
