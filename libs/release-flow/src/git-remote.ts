import { gitRefusalOf } from '@changemaker/release-contract';
import { gitAnswer } from './git-command';
import { GitPushError, ReleaseBranchMovedError, ReleasePushDeclinedError, ReleaseTagError, ReleaseTagTakenError } from './release-flow-errors';

export interface ReleaseCommit {
  sha: string;
  /** Undefined on a detached HEAD: only the tag is pushed then. */
  branch?: string;
  /** Whether the release tag exists locally yet (not in a dry run ahead of nx release's tagging). */
  tagged: boolean;
}

/**
 * The commit being released: HEAD, which must be what the release tag points at, so the images,
 * the tarball and the tag all come from one commit.
 */
export async function readReleaseCommit(root: string, tag: string): Promise<ReleaseCommit> {
  const head = await gitAnswer(root, ['rev-parse', 'HEAD']);
  if (!head.ok) throw new ReleaseTagError(unreadableHeadProblem(root, head.stderr, 'run nx release from the workspace'));
  const branch = await gitAnswer(root, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  const tagged = await gitAnswer(root, ['rev-parse', '--verify', '--quiet', `refs/tags/${tag}^{commit}`]);
  if (tagged.ok && tagged.stdout !== head.stdout) {
    throw new ReleaseTagError(`${tag} points at ${tagged.stdout.slice(0, 12)} but HEAD is ${head.stdout.slice(0, 12)}: check out ${tag} to publish it (git checkout ${tag})`);
  }
  return { sha: head.stdout, branch: branch.ok ? branch.stdout : undefined, tagged: tagged.ok };
}

/**
 * Why HEAD could not be read in `root`: git's refusal in its own words (another user's checkout),
 * else no checkout with a commit there, and `instead`, what to do about that.
 */
export function unreadableHeadProblem(root: string, gitStderr: string, instead: string): string {
  const refused = gitRefusalOf(gitStderr);
  return refused ? `git will not read ${root}: ${refused}` : `${root} is not a git checkout with a commit: ${instead}`;
}

/**
 * Why `tag` cannot be published, as it does not exist; `consequence` says what was not done. When
 * HEAD is its release commit, untagged (nx release stopped between its commit and its tag: killed,
 * or git refused to make the tag), nx release run again would not finish it but skip the version,
 * leaving that commit and its changelog section behind: tagging it finishes the same release.
 */
export async function missingTagProblem(root: string, tag: string, consequence = ''): Promise<string> {
  const subject = await gitAnswer(root, ['log', '-1', '--format=%s', 'HEAD']);
  if (subject.ok && isReleaseCommitSubject(subject.stdout, tag)) {
    return (
      `${tag} does not exist, but HEAD ("${subject.stdout}") is its release commit: nx release stopped between the commit and the tag${consequence}. ` +
      `Tag it and finish this release: git tag -a ${tag} -m ${tag} && npx nx release publish (or undo it with git reset --hard HEAD~1 and run nx release again)`
    );
  }
  return `${tag} does not exist: nx release (or nx release version and changelog) creates the release commit and tag; nx release publish publishes a release already cut${consequence}`;
}

/** Whether a commit's subject makes it `tag`'s release commit: nx release's `chore(release): v1.2.3` names the tag as a word. */
export function isReleaseCommitSubject(subject: string, tag: string): boolean {
  return subject.split(/\s+/).includes(tag);
}

export async function hasRemote(root: string, remote: string): Promise<boolean> {
  return (await gitAnswer(root, ['remote', 'get-url', remote])).ok;
}

/** The refs a release pushes: its branch (when on one) and its tag, together or not at all. */
export function releaseRefs(commit: ReleaseCommit, tag: string): string[] {
  return [...(commit.branch ? [`HEAD:refs/heads/${commit.branch}`] : []), `refs/tags/${tag}`];
}

/**
 * Pushes the release commit and tag atomically; a re-run after success pushes nothing and succeeds.
 * `product`, the released project, is named in the command a refusal advises.
 */
export async function pushRelease(root: string, remote: string, refs: readonly string[], product: string): Promise<void> {
  const pushed = await gitAnswer(root, ['push', '--atomic', '--porcelain', remote, ...refs]);
  if (!pushed.ok) {
    const tag = refs.find((ref) => ref.startsWith('refs/tags/'))?.slice('refs/tags/'.length);
    const refused = refusalOf(pushed.stdout);
    if (tag && refused?.kind === 'tag taken') throw new ReleaseTagTakenError(remote, tag, product);
    if (tag && refused?.kind === 'branch moved on') throw new ReleaseBranchMovedError(remote, refused.branch, tag, product);
    if (tag && refused?.kind === 'declined') throw new ReleasePushDeclinedError(remote, tag, withoutUrlCredentials(remoteSaid(pushed.stderr) ?? refused.reason), product);
    const said = withoutUrlCredentials(whyPushFailed(pushed.stdout, pushed.stderr));
    throw new GitPushError(remote, refs.join(' '), said || 'git push failed');
  }
}

/**
 * A refusal no re-run can get past: the remote already has the tag (at another commit: the same one
 * would have been up to date), or its branch has commits the release commit lacks. Porcelain lines:
 * `!<TAB>refs/tags/v1.1.0:refs/tags/v1.1.0<TAB>[rejected] (already exists)`,
 * `!<TAB>HEAD:refs/heads/main<TAB>[rejected] (fetch first)` (or non-fast-forward).
 */
function refusalOf(stdout: string): { kind: 'tag taken' } | { kind: 'branch moved on'; branch: string } | { kind: 'declined'; reason: string } | undefined {
  const refused = stdout.split('\n').map((line) => line.split('\t')).filter(([flag]) => flag === '!');
  if (refused.some(([, refs = '', summary = '']) => refs.includes(':refs/tags/') && summary.includes('(already exists)'))) return { kind: 'tag taken' };
  for (const [, refs = '', summary = ''] of refused) {
    const branch = /:refs\/heads\/(.+)$/.exec(refs)?.[1];
    if (branch && /\((fetch first|non-fast-forward)\)/.test(summary)) return { kind: 'branch moved on', branch };
  }
  const declined = refused.find(([, , summary = '']) => summary.startsWith('[remote rejected]'));
  return declined ? { kind: 'declined', reason: declined[2]!.slice('[remote rejected]'.length).trim().replace(/^\((.*)\)$/, '$1') } : undefined;
}

/**
 * What the remote's own hook said (git prints it as `remote: …`), e.g. Gitea's
 * `remote: Gitea: Not allowed to push to protected branch main`: the reason, where git's summary
 * says only "(pre-receive hook declined)".
 */
function remoteSaid(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .filter((line) => line.startsWith('remote:'))
    .map((line) => line.slice('remote:'.length).trim())
    .filter((line) => line.length > 0);
  return lines.length > 0 ? lines.slice(0, 2).join(' ') : undefined;
}

/** Porcelain lines of refused refs (`!<TAB>from:to<TAB>[rejected] (why)`) say it best; else git's own error lines. */
function whyPushFailed(stdout: string, stderr: string): string {
  const refused = stdout.split('\n').filter((line) => line.startsWith('!')).map((line) => line.split('\t').slice(1).join(' '));
  const errors = stderr.split('\n').map((line) => line.trim()).filter((line) => /^(error|fatal):/.test(line));
  return (refused.length > 0 ? refused : errors).slice(0, 2).join('; ');
}

/** git's words about a remote, whose URL may carry credentials (https://user:token@host/...): never repeated. */
export function withoutUrlCredentials(said: string): string {
  return said.replace(/\/\/[^/@\s]+@/g, '//***@');
}
