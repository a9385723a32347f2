import { execa } from 'execa';
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
  const tagCommit = await gitOutput(workspaceRoot, ['rev-parse', '--verify', '--quiet', `refs/tags/${tag}^{commit}`]);
  const commit = tagCommit ?? (await gitOutput(workspaceRoot, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']));
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== '') return { mtimeSeconds: parseEpoch(epoch), commit, origin: 'SOURCE_DATE_EPOCH' };
  if (commit === null) {
    throw new SourceDateError(`${workspaceRoot}: is not a git checkout with a commit, so there is no commit time; set SOURCE_DATE_EPOCH`);
  }
  const committed = await gitOutput(workspaceRoot, ['show', '-s', '--format=%ct', commit]);
  return { mtimeSeconds: Number(committed), commit, origin: tagCommit ? 'tag' : 'HEAD' };
}

function parseEpoch(epoch: string): number {
  if (!/^\d+$/.test(epoch)) throw new SourceDateError(`SOURCE_DATE_EPOCH="${epoch}" is not a number of seconds; unset it or fix it`);
  return Number(epoch);
}

async function gitOutput(cwd: string, args: string[]): Promise<string | null> {
  const result = await execa('git', args, { cwd, reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : null;
}
