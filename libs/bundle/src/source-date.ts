import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SourceDateError } from './bundle-errors';

/** The timestamp every tarball entry carries, and the commit the release was packaged from. */
export interface SourceDate {
  mtimeSeconds: number;
  commit: string | null;
  /** Where the timestamp came from, for the report. */
  origin: 'SOURCE_DATE_EPOCH' | 'tag' | 'HEAD';
}

/**
 * SOURCE_DATE_EPOCH wins (reproducible-builds.org); otherwise the tagged commit's time, so two
 * machines packaging the same tag agree. Before the tag exists (a dry run ahead of `nx release`),
 * HEAD stands in for it.
 */
export async function resolveSourceDate(workspaceRoot: string, tag: string, env: NodeJS.ProcessEnv): Promise<SourceDate> {
  const [tagged, head] = await commitsOf(workspaceRoot, [`refs/tags/${tag}`, 'HEAD']);
  // The files come from the checkout: under another commit's tag, the manifest would name a commit
  // whose files the tarball does not hold.
  if (tagged && head && tagged.sha !== head.sha) {
    throw new SourceDateError(
      `${tag} points at ${tagged.sha.slice(0, 12)} but HEAD is ${head.sha.slice(0, 12)}, and the files are packaged from the checkout: check out ${tag} to package it (git checkout ${tag}), or release HEAD under a new version`,
    );
  }
  const commit = tagged ?? head;
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== '') return { mtimeSeconds: parseEpoch(epoch), commit: commit?.sha ?? null, origin: 'SOURCE_DATE_EPOCH' };
  if (commit === undefined) {
    throw new SourceDateError(`${workspaceRoot}: is not a git checkout with a commit, so there is no commit time; set SOURCE_DATE_EPOCH`);
  }
  return { mtimeSeconds: commit.time, commit: commit.sha, origin: tagged ? 'tag' : 'HEAD' };
}

function parseEpoch(epoch: string): number {
  if (!/^\d+$/.test(epoch)) throw new SourceDateError(`SOURCE_DATE_EPOCH="${epoch}" is not a number of seconds; unset it or fix it`);
  return Number(epoch);
}

const execFileAsync = promisify(execFile);
const COMMITTER_TIME = /^committer .* (\d+) [+-]\d{4}$/m;

interface Commit {
  sha: string;
  time: number;
}

/**
 * Each ref's commit (annotated tags peeled) and commit time, from one `git cat-file --batch`:
 * starting a process costs more than everything else packaging does with git.
 */
async function commitsOf(cwd: string, refs: readonly string[]): Promise<Array<Commit | undefined>> {
  const running = execFileAsync('git', ['cat-file', '--batch'], { cwd, encoding: 'buffer' });
  // Outside a repository git exits before reading; the broken pipe is answered by the exit code.
  running.child.stdin?.on('error', () => undefined);
  running.child.stdin?.end(refs.map((ref) => `${ref}^{commit}\n`).join(''));
  const result = await running.catch(() => undefined);
  return result ? parseBatch(result.stdout, refs.length) : refs.map(() => undefined);
}

/** `<sha> commit <size>\n<object>\n` per found object, `<ref> missing\n` per missing one. */
function parseBatch(output: Buffer, count: number): Array<Commit | undefined> {
  const commits: Array<Commit | undefined> = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const lineEnd = output.indexOf(0x0a, offset);
    const [sha, type, size] = output.toString('utf8', offset, lineEnd).split(' ');
    offset = lineEnd + 1;
    if (type !== 'commit') {
      commits.push(undefined);
      continue;
    }
    const object = output.toString('utf8', offset, offset + Number(size));
    offset += Number(size) + 1;
    commits.push({ sha, time: Number(COMMITTER_TIME.exec(object)?.[1]) });
  }
  return commits;
}
