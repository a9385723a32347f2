import { execFileSync } from 'node:child_process';
import { abandonReleaseCommandOf } from '@changemaker/release-contract';
import { lsRemoteRefs, remoteTagCommit, statusPaths } from './git-command';
import { withoutUrlCredentials } from './git-remote';
import { abandonAfterBranchMovedOn } from './release-flow-errors';
import { readHeldElsewhere } from './release-claim';

/**
 * What `nx release` has left when it stops before the release is public and finished (a failure,
 * Ctrl-C, CI cancelling the job), and the one line that says so and how to go on (README, "All or
 * nothing, and what a failure leaves"). Everything here is synchronous: it runs in a signal handler
 * and in an exit listener, which cannot wait for a promise.
 */

/** The workspace as nx release found it, before it wrote anything. */
export interface ReleaseStart {
  root: string;
  head: string;
  /** Paths already changed before the release: the advice never tells to put these back. */
  changed: readonly string[];
  /** The remote the release is pushed to (the product's gitRemote). */
  remote: string;
}

export type UnfinishedRelease =
  /** Stopped before it wrote a file. */
  | { kind: 'untouched' }
  /** The VERSION file, and maybe the changelog, written; no release commit. */
  | { kind: 'edited'; files: string[] }
  /** The release commit made, not tagged. */
  | { kind: 'committed' }
  /** Commit and tag, neither on the remote. */
  | { kind: 'local' }
  /** Commit and tag local only, and the remote's branch took commits the release commit lacks: no re-run can push it. */
  | { kind: 'behind'; remote: string; branch: string }
  /** The remote has the tag at the release commit: Gitea published the release when the tag arrived. */
  | { kind: 'pushed' }
  /** Another commit holds the tag: on the remote, or as its Gitea release (the claim of another nx release). */
  | { kind: 'elsewhere'; commit: string; where: string; draft?: boolean }
  /** The remote could not be asked whether the tag is there. */
  | { kind: 'remote-unknown'; remote: string; reason: string };

export function readReleaseStart(root: string, remote: string): ReleaseStart {
  return { root, head: git(root, 'rev-parse', 'HEAD'), changed: changedPaths(root), remote };
}

/** Where the release stands now, from git alone (and, for the tag, one question to the remote). */
export function readUnfinishedRelease(start: ReleaseStart, tag: string): UnfinishedRelease {
  const head = git(start.root, 'rev-parse', 'HEAD');
  const tagged = tryGit(start.root, 'rev-parse', '-q', '--verify', `refs/tags/${tag}^{commit}`);
  if (tagged !== head) {
    if (head !== start.head) return { kind: 'committed' };
    const files = changedPaths(start.root).filter((path) => !start.changed.includes(path));
    return files.length > 0 ? { kind: 'edited', files } : { kind: 'untouched' };
  }
  const claim = readHeldElsewhere(start.root, tag);
  if (claim && claim.commit === head) return { kind: 'elsewhere', commit: claim.holder, where: claim.url, draft: claim.draft };
  return remoteTagState(start, tag, head);
}

/**
 * The remote is asked, not the remote-tracking branch: a push interrupted after the remote took it
 * has not updated that branch yet, and a release that is public must never be called local.
 */
function remoteTagState(start: ReleaseStart, tag: string, head: string): UnfinishedRelease {
  if (tryGit(start.root, 'remote', 'get-url', start.remote) === undefined) return { kind: 'local' };
  let listed: string;
  try {
    listed = execFileSync('git', ['-C', start.root, 'ls-remote', '--tags', start.remote, `refs/tags/${tag}`, `refs/tags/${tag}^{}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15_000,
      // Never a credential prompt in an exit path: an answer or a failure.
      env: nonInteractiveGitEnv(start.root),
    });
  } catch (error) {
    const said = String((error as { stderr?: string }).stderr ?? '').trim().split('\n').pop() || (error as Error).message;
    return { kind: 'remote-unknown', remote: start.remote, reason: withoutUrlCredentials(said) };
  }
  const commit = remoteTagCommit(lsRemoteRefs(listed), tag);
  if (!commit) return remoteBranchState(start, head);
  if (commit === head) return { kind: 'pushed' };
  return { kind: 'elsewhere', commit, where: start.remote };
}

/**
 * Not pushed: whether a re-run can still push it, i.e. the remote's branch is in the release commit's
 * history. A remote commit missing here is not in it either (merge-base fails on it as on a stranger).
 */
function remoteBranchState(start: ReleaseStart, head: string): UnfinishedRelease {
  const branch = tryGit(start.root, 'symbolic-ref', '--quiet', '--short', 'HEAD');
  if (branch === undefined) return { kind: 'local' };
  let listed: string;
  try {
    listed = execFileSync('git', ['-C', start.root, 'ls-remote', '--heads', start.remote, `refs/heads/${branch}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15_000,
      env: nonInteractiveGitEnv(start.root),
    });
  } catch {
    // The tag was asked a moment ago; if the branch cannot be, the push will say why.
    return { kind: 'local' };
  }
  const remoteHead = lsRemoteRefs(listed).get(`refs/heads/${branch}`);
  if (!remoteHead || remoteHead === head || tryGit(start.root, 'merge-base', '--is-ancestor', remoteHead, head) !== undefined) return { kind: 'local' };
  return { kind: 'behind', remote: start.remote, branch };
}

/** git asking a remote with no prompt for credentials (an answer or a failure, never a wait for input). */
export function nonInteractiveGitEnv(root: string): NodeJS.ProcessEnv {
  return { ...process.env, GIT_TERMINAL_PROMPT: '0', ...batchSsh(root) };
}

/** ssh without prompts, unless the user chose the ssh command (GIT_SSH_COMMAND, core.sshCommand): that one is kept. */
function batchSsh(root: string): NodeJS.ProcessEnv {
  if (process.env['GIT_SSH_COMMAND'] || process.env['GIT_SSH'] || tryGit(root, 'config', 'core.sshCommand')) return {};
  return { GIT_SSH_COMMAND: 'ssh -o BatchMode=yes' };
}

/** One line: what is left and the way on, with commands on `product`; `signal` when the run was stopped by one. */
export function unfinishedReleaseLine(tag: string | undefined, state: UnfinishedRelease, product: string, signal?: NodeJS.Signals): string {
  const name = tag ?? 'nx release';
  const stopped = signal ? `stopped by ${signal}` : 'stopped';
  switch (state.kind) {
    case 'untouched':
      return `${name}: ${stopped} before anything was written, committed or pushed: run nx release again`;
    case 'edited':
      return (
        `${name}: ${stopped} before the release commit: nothing was committed, tagged or pushed, but ${state.files.join(', ')} ` +
        `${state.files.length === 1 ? 'holds' : 'hold'} its edits: put them back with ${putBackCommand(state.files)}, then run nx release again`
      );
    case 'committed':
      return (
        `${name}: ${stopped} after the release commit, before its tag: nothing was tagged or pushed: ` +
        `tag it and finish this release with git tag -a ${name} -m ${name} && npx nx release publish, or undo the commit with git reset --hard HEAD~1 and run nx release again`
      );
  }
  const left = afterTagging(name, state, product);
  return signal ? `${name}: stopped by ${signal}; ${left}` : `${name}: ${left}`;
}

/**
 * restore, not `git checkout HEAD --`: on a first release CHANGELOG.md is new, and checkout refuses
 * a path HEAD lacks and then puts back none of them; restore removes it, as HEAD has it.
 */
function putBackCommand(files: readonly string[]): string {
  return `git restore --source=HEAD --staged --worktree -- ${files.join(' ')}`;
}

function afterTagging(tag: string, state: Exclude<UnfinishedRelease, { kind: 'untouched' | 'edited' | 'committed' }>, product: string): string {
  const abandonCommand = abandonReleaseCommandOf(product);
  switch (state.kind) {
    case 'local':
      return `the release commit and tag are local only (nothing was pushed): finish with npx nx release publish, or abandon with ${abandonCommand} (its draft, if one was made, tag and release commit)`;
    case 'behind':
      return `the release commit and tag are local only (nothing was pushed), and ${state.remote}'s ${state.branch} has moved on since they were made, so nx release publish cannot push them: ${abandonAfterBranchMovedOn(state.remote, state.branch, tag, product)}`;
    case 'pushed':
      return 'the release commit and tag are pushed, so the release is public (Gitea published it when the tag arrived) but not finished: finish it with npx nx release publish; do not abandon it';
    case 'elsewhere':
      return (
        `another release commit (${state.commit.slice(0, 12)}) holds this version (${state.where}): nothing of this one was pushed or published: ` +
        `abandon it with ${abandonCommand}, then git pull` +
        (state.draft ? `; or, if nobody is releasing that commit any more, delete its draft in Gitea's web UI and run npx nx release publish` : '')
      );
    case 'remote-unknown':
      return (
        `could not ask ${state.remote} whether ${tag} was pushed (${state.reason}): if git ls-remote ${state.remote} ${tag} lists it, the release is public: ` +
        `finish it with npx nx release publish and do not abandon it; if not, finish the same way or abandon with git tag -d ${tag} && git reset --hard HEAD~1 (${abandonCommand} asks ${state.remote} first)`
      );
  }
}

/** Tracked paths with changes, staged or not. */
function changedPaths(root: string): string[] {
  try {
    return statusPaths(execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no', '-z'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    // Not a git checkout: nothing to put back.
    return [];
  }
}

function git(root: string, ...args: string[]): string {
  return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

function tryGit(root: string, ...args: string[]): string | undefined {
  try {
    return git(root, ...args);
  } catch {
    return undefined;
  }
}
