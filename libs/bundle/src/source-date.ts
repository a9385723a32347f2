import { SourceDateError } from './bundle-errors';
import { GitCommandError, runGit } from './git-command';

/** The timestamp every tarball entry carries, and the commit the release was packaged from. */
export interface SourceDate {
  mtimeSeconds: number;
  /** null only for files outside any git checkout, packaged with SOURCE_DATE_EPOCH set. */
  commit: string | null;
  /** Where the timestamp came from, for the report. */
  origin: 'SOURCE_DATE_EPOCH' | 'tag' | 'HEAD';
}

export interface ReleaseCommit {
  sourceDate: SourceDate;
  /** What a real release would refuse, reported instead (requireTag unset): the tag not created yet. */
  notices: string[];
}

/**
 * SOURCE_DATE_EPOCH wins (reproducible-builds.org); otherwise the tagged commit's time, so two
 * machines packaging the same tag agree. A real release (`requireTag`) is packaged from its tag,
 * which must exist at HEAD: without it, the same tag name would give other bytes depending on
 * whether tags were fetched. Before the tag exists (a dry run ahead of `nx release`), HEAD stands
 * in for it, and that is reported. A commit is required, unless there is no git checkout at all
 * and SOURCE_DATE_EPOCH is set: then the files are packaged as they are, with `commit: null`.
 * git's own refusal (dubious ownership, a broken repository) is shown, never taken for "no checkout".
 */
export async function resolveReleaseCommit(workspaceRoot: string, tag: string, env: NodeJS.ProcessEnv, options: { requireTag?: boolean } = {}): Promise<ReleaseCommit> {
  const epoch = env.SOURCE_DATE_EPOCH !== undefined && env.SOURCE_DATE_EPOCH !== '' ? parseEpoch(env.SOURCE_DATE_EPOCH) : undefined;
  let commits: Array<Commit | undefined>;
  try {
    commits = await commitsOf(workspaceRoot, [`refs/tags/${tag}`, 'HEAD']);
  } catch (error) {
    if (!(error instanceof GitCommandError)) throw error;
    if (error.notARepository && epoch !== undefined) return { sourceDate: { mtimeSeconds: epoch, commit: null, origin: 'SOURCE_DATE_EPOCH' }, notices: [] };
    if (error.notARepository) {
      throw new SourceDateError(`${workspaceRoot}: is not a git checkout (git: ${error.line}); package a release from its git checkout, or set SOURCE_DATE_EPOCH to package files that have no commit`);
    }
    throw new SourceDateError(`${workspaceRoot}: git failed: ${error.line}`);
  }
  const [tagged, head] = commits;
  if (head === undefined) {
    throw new SourceDateError(`${workspaceRoot}: the git checkout has no commit (HEAD names none); commit the release's files first (SOURCE_DATE_EPOCH stands in for a commit only outside git)`);
  }
  // The files come from the checkout: under another commit's tag, the manifest would name a commit
  // whose files the tarball does not hold.
  if (tagged && tagged.sha !== head.sha) {
    throw new SourceDateError(
      `${tag} points at ${tagged.sha.slice(0, 12)} but HEAD is ${head.sha.slice(0, 12)}, and the files are packaged from the checkout: check out ${tag} to package it (git checkout ${tag}), or release HEAD under a new version`,
    );
  }
  const notices: string[] = [];
  if (!tagged) {
    if (options.requireTag) {
      throw new SourceDateError(
        `${tag} does not exist (no refs/tags/${tag}): a release is packaged from its tag; create it at HEAD (nx release, or git tag ${tag}), fetch it if it exists (git fetch --tags), or use --dry-run to package ahead of the tag`,
      );
    }
    notices.push(`${tag} does not exist yet: HEAD (${head.sha.slice(0, 12)}) stands in for it; a real run requires the tag`);
  }
  const sourceDate: SourceDate =
    epoch !== undefined ? { mtimeSeconds: epoch, commit: head.sha, origin: 'SOURCE_DATE_EPOCH' } : { mtimeSeconds: head.time, commit: head.sha, origin: tagged ? 'tag' : 'HEAD' };
  return { sourceDate, notices };
}

/** The largest mtime a ustar header's 11 octal digits hold; a larger one would be written cut short. */
const latestUstarTime = 8 ** 11 - 1;

function parseEpoch(epoch: string): number {
  if (!/^\d+$/.test(epoch)) throw new SourceDateError(`SOURCE_DATE_EPOCH="${epoch}" is not a number of seconds; unset it or fix it`);
  if (Number(epoch) > latestUstarTime) {
    throw new SourceDateError(`SOURCE_DATE_EPOCH=${epoch} is later than ${latestUstarTime} (year 2242), the latest time a tar header holds: it counts seconds since 1970, not milliseconds; fix it or unset it`);
  }
  return Number(epoch);
}

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
  const output = await runGit(cwd, ['cat-file', '--batch'], { input: refs.map((ref) => `${ref}^{commit}\n`).join('') });
  return parseBatch(output, refs.length);
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
