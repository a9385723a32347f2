import type { CommandRunner } from './command-runner';
import { ImageBuildError } from './errors';

/** The commit an image is built from: its tags, labels and reproducible timestamp come from here. */
export interface GitRevision {
  sha: string;
  /** Undefined on a detached HEAD. */
  branch?: string;
  /** Seconds since the epoch. */
  commitTime: number;
}

export class NotAGitRepositoryError extends ImageBuildError {
  constructor(directory: string) {
    super(`${directory} is not inside a git repository with a commit: image tags come from the commit, so commit first.`);
  }
}

export async function readGitRevision(directory: string, runner: CommandRunner): Promise<GitRevision> {
  const git = async (...args: string[]) => {
    const result = await runner.run('git', ['-C', directory, ...args]);
    if (result.exitCode !== 0) throw new NotAGitRepositoryError(directory);
    return result.stdout.trim();
  };
  const [sha, branch, commitTime] = await Promise.all([
    git('rev-parse', 'HEAD'),
    git('rev-parse', '--abbrev-ref', 'HEAD'),
    git('log', '-1', '--format=%ct', 'HEAD'),
  ]);
  return { sha, branch: branch === 'HEAD' ? undefined : branch, commitTime: Number(commitTime) };
}

/** The newest release tag (v*) reachable from HEAD other than `currentTag`: the release before this one. */
export async function readPreviousReleaseTag(directory: string, runner: CommandRunner, currentTag: string): Promise<string | undefined> {
  const result = await runner.run('git', ['-C', directory, 'tag', '--merged', 'HEAD', '--list', 'v[0-9]*', '--sort=-v:refname']);
  if (result.exitCode !== 0) return undefined;
  return result.stdout.split('\n').map((tag) => tag.trim()).find((tag) => tag !== '' && tag !== currentTag);
}
