import { allReleaseTagsGitArgs, gitRefusalOf, mergedReleaseTagsGitArgs, newerStableReleaseIn, previousReleaseTagIn } from '@changemaker/release-contract';
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

/** git will not read the checkout (another user's, or damaged): in git's words, with its advice. */
export class UnreadableCheckoutError extends ImageBuildError {
  constructor(directory: string, refusal: string) {
    super(`git will not read ${directory}, whose commit names the image: ${refusal}`);
  }
}

export async function readGitRevision(directory: string, runner: CommandRunner): Promise<GitRevision> {
  const git = async (...args: string[]) => {
    const result = await runner.run('git', ['-C', directory, ...args]);
    if (result.exitCode !== 0) {
      const refused = gitRefusalOf(result.stderr);
      throw refused ? new UnreadableCheckoutError(directory, refused) : new NotAGitRepositoryError(directory);
    }
    return result.stdout.trim();
  };
  const [sha, branch, commitTime] = await Promise.all([
    git('rev-parse', 'HEAD'),
    git('rev-parse', '--abbrev-ref', 'HEAD'),
    git('log', '-1', '--format=%ct', 'HEAD'),
  ]);
  return { sha, branch: branch === 'HEAD' ? undefined : branch, commitTime: Number(commitTime) };
}

/** The release before `currentTag` (release-contract's definition), undefined when git cannot say. */
export async function readPreviousReleaseTag(directory: string, runner: CommandRunner, currentTag: string): Promise<string | undefined> {
  const result = await runner.run('git', ['-C', directory, ...mergedReleaseTagsGitArgs]);
  return result.exitCode === 0 ? previousReleaseTagIn(result.stdout, currentTag) : undefined;
}

/** A stable release above `version` on any branch (release-contract's definition); undefined when none, or git cannot say. */
export async function readNewerStableRelease(directory: string, runner: CommandRunner, version: string): Promise<string | undefined> {
  const result = await runner.run('git', ['-C', directory, ...allReleaseTagsGitArgs]);
  return result.exitCode === 0 ? newerStableReleaseIn(result.stdout, version) : undefined;
}

/**
 * Whether the commit is on `branch`: checked out as it, or, on a detached HEAD (a CI checkout of a
 * commit), the commit a remote-tracking `<remote>/<branch>` names.
 */
export async function isOnBranch(directory: string, runner: CommandRunner, revision: GitRevision, branch: string): Promise<boolean> {
  if (revision.branch !== undefined) return revision.branch === branch;
  const result = await runner.run('git', ['-C', directory, 'for-each-ref', '--format=%(objectname)', `refs/remotes/*/${branch}`]);
  return result.exitCode === 0 && result.stdout.split('\n').includes(revision.sha);
}
