import { execFile } from 'node:child_process';

/** What git said, whether it succeeded or not. */
export interface GitResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** It was stopped after `timeout` ms without an answer. */
  timedOut: boolean;
}

/**
 * Runs git in `root`. Through node's child_process, not execa: some of these calls run in the nx
 * release process before anything is written, and execa's cleanup installs a SIGINT listener
 * (signal-exit) that defers to any other, as the stop line's does (version-file-actions.ts): with
 * both, Ctrl-C stopped nothing.
 */
export function gitCommand(root: string, args: readonly string[], options: { timeout?: number; env?: NodeJS.ProcessEnv } = {}): Promise<GitResult> {
  return new Promise((resolve) => {
    const child = execFile('git', ['-C', root, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: options.timeout ?? 0, env: options.env ?? process.env }, (error, stdout, stderr) => {
      resolve({ ok: !error, stdout, stderr, timedOut: Boolean(error && (error as { killed?: boolean }).killed && options.timeout) });
    });
    child.stdin?.end();
  });
}

/** gitCommand's answer with its output trimmed, for answers of a line (a sha, a branch, a URL). */
export async function gitAnswer(root: string, args: readonly string[]): Promise<GitResult> {
  const result = await gitCommand(root, args);
  return { ...result, stdout: result.stdout.trim(), stderr: result.stderr.trim() };
}

/**
 * Files that differ from HEAD under `paths` (the whole checkout when none): modified, staged,
 * deleted, or (unless `untracked` is false) untracked and not ignored, named from the repository's
 * top as `git status` names them. Undefined when git cannot tell (not a repository, no git).
 */
export async function uncommittedFiles(root: string, paths: readonly string[] = [], { untracked = true } = {}): Promise<string[] | undefined> {
  const status = await gitCommand(root, ['status', '--porcelain', '-z', `--untracked-files=${untracked ? 'all' : 'no'}`, ...(paths.length > 0 ? ['--', ...paths] : [])]);
  return status.ok ? statusPaths(status.stdout) : undefined;
}

/**
 * What git ignores under `directory` and does not track, relative to it: files, and directories
 * ignored as a whole ending in `/`. Empty when `directory` itself is ignored (a build output such
 * as dist/apps/api, ignored by design); undefined when git cannot tell (not a repository, no git).
 */
export async function ignoredUntrackedPaths(directory: string): Promise<string[] | undefined> {
  const itself = await gitCommand(directory, ['check-ignore', '-q', '.']);
  if (itself.ok) return [];
  const listed = await gitCommand(directory, ['ls-files', '--others', '--ignored', '--exclude-standard', '--directory', '-z']);
  return listed.ok ? listed.stdout.split('\0').filter((path) => path !== '') : undefined;
}

/** uncommittedFiles' answer for a one-line message: the first three, then how many more. */
export function someFilesOf(files: readonly string[]): string {
  const shown = 3;
  return `${files.slice(0, shown).join(', ')}${files.length > shown ? ` and ${files.length - shown} more` : ''}`;
}

/** The paths `git status --porcelain -z` names; not trimmed: an entry starts with a space when only the work tree changed. */
export function statusPaths(porcelainZ: string): string[] {
  const entries = porcelainZ.split('\0');
  const paths: string[] = [];
  for (let index = 0; index < entries.length; index += 1) {
    const entry = entries[index]!;
    if (entry.length < 4) continue;
    paths.push(entry.slice(3));
    // A rename or copy is followed by the path it came from: not a path of its own.
    if (/[RC]/.test(entry.slice(0, 2))) index += 1;
  }
  return paths;
}

/** `git ls-remote` output: each ref it lists, to the object it names. */
export function lsRemoteRefs(output: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of output.split('\n')) {
    const [sha, ref] = line.trim().split('\t');
    if (sha && ref) refs.set(ref, sha);
  }
  return refs;
}

/** The commit `tag` names among ls-remote's refs: an annotated tag is listed as its tag object, then (^{}) as that commit. */
export function remoteTagCommit(refs: ReadonlyMap<string, string>, tag: string): string | undefined {
  return refs.get(`refs/tags/${tag}^{}`) ?? refs.get(`refs/tags/${tag}`);
}

/** A commit's subject as a one-line message quotes it: in quotes, cut at 72 characters. */
export function quotedSubject(subject: string): string {
  return `"${subject.length > 72 ? `${subject.slice(0, 71)}…` : subject}"`;
}
