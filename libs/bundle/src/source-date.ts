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
  const [tagged, head] = await Promise.all([commitOf(workspaceRoot, `refs/tags/${tag}`), commitOf(workspaceRoot, 'HEAD')]);
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

/** The commit a ref points to (peeling an annotated tag) and its commit time; undefined when there is none. */
async function commitOf(cwd: string, ref: string): Promise<{ sha: string; time: number } | undefined> {
  // Plain execFile: packaging is short enough that a heavier process wrapper shows in its time.
  const result = await execFileAsync('git', ['log', '-1', '--format=%H %ct', `${ref}^{commit}`, '--'], { cwd }).catch(() => undefined);
  if (!result) return undefined;
  const [sha, time] = result.stdout.trim().split(' ');
  return { sha, time: Number(time) };
}
