import { compare, inc, prerelease, rcompare, valid } from 'semver';
import { abandonReleaseCommandOf, allReleaseTagsGitArgs, mergedReleaseTagsGitArgs, previousReleaseTagIn, releaseTagGlob, releaseTagsIn, type GiteaLocation } from '@changemaker/release-contract';
import { gitAnswer, gitCommand, lsRemoteRefs, remoteTagCommit, someFilesOf, uncommittedFiles } from './git-command';
import { hasRemote, unreadableHeadProblem, withoutUrlCredentials } from './git-remote';
import { remoteRepositoryProblem } from './remote-repository';
import { nonInteractiveGitEnv } from './unfinished-release';

/**
 * What `nx release` needs from the checkout, checked before it writes anything: otherwise a dirty
 * tree, a detached HEAD, a missing remote or a branch behind it surfaces only at the image tasks or
 * at `git push`, after the release commit and tag exist, images were pushed under `v<version>` and
 * `latest`, and a draft holds the version in Gitea.
 */
export interface CheckoutCheckRequest {
  root: string;
  /** The remote the release is pushed to (the product's gitRemote, default origin). */
  remote: string;
  /** Where the release is published: the remote must be its repository. */
  gitea: GiteaLocation;
  /** The released project: the commands a refusal advises run on it. */
  product: string;
  dryRun: boolean;
}

export interface CheckoutCheck {
  /** The first thing that stops the release, in one line; undefined when it may go on. */
  problem?: string;
  /** What a dry run could not check (the remote could not be asked). */
  notices: string[];
}

export async function checkoutProblem({ root, remote, gitea, product, dryRun }: CheckoutCheckRequest): Promise<CheckoutCheck> {
  const refusal = (problem: string): CheckoutCheck => ({ problem, notices: [] });
  const head = await gitAnswer(root, ['rev-parse', '--verify', '-q', 'HEAD']);
  if (!head.ok) return refusal(unreadableHeadProblem(root, head.stderr, "run nx release in the workspace's clone"));
  if ((await gitAnswer(root, ['rev-parse', '--is-shallow-repository'])).stdout === 'true') return refusal(shallowCloneProblem(remote));
  const branch = await gitAnswer(root, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  if (!branch.ok) {
    return refusal(`HEAD is detached (at ${head.stdout.slice(0, 12)}): check out the branch to release from (git switch main), so the release commit and tag land on it`);
  }
  // Ignored files (dist/, tmp/) aside: a change here would be built into the images and packaged into the tarball, or committed by the release commit.
  const changed = (await uncommittedFiles(root)) ?? [];
  if (changed.length > 0) {
    return refusal(`uncommitted changes in ${someFilesOf(changed)}: commit or stash them (git stash -u), then run nx release again; a release is built and tagged from its commit alone`);
  }
  const identity = await missingIdentityProblem(root);
  if (identity && !dryRun) return refusal(identity);
  const notices = identity ? [identity] : [];
  if (!(await hasRemote(root, remote))) {
    return refusal(`git remote ${remote} does not exist: add the Gitea repository (git remote add ${remote} <url>); nx release pushes the release commit and tag there`);
  }
  const elsewhere = await remoteRepositoryProblem(root, remote, gitea);
  if (elsewhere) return refusal(elsewhere);
  const lastRelease = await lastReleaseTag(root);
  const listed = await lsRemote(root, remote, [`refs/heads/${branch.stdout}`, `refs/tags/${releaseTagGlob}`]);
  if ('failure' in listed) {
    const said = `could not ask ${remote} for ${branch.stdout} (${listed.failure}): fix the remote's URL, credentials or network, then run nx release again`;
    return dryRun ? { notices: [...notices, said] } : refusal(said);
  }
  const remoteHead = listed.refs.get(`refs/heads/${branch.stdout}`);
  if (!remoteHead) return refusal(unsharedBranchProblem(branch.stdout, remote));
  if (remoteHead !== head.stdout && !(await gitAnswer(root, ['merge-base', '--is-ancestor', remoteHead, 'HEAD'])).ok) {
    return refusal(`${branch.stdout} is behind ${remote} (${remote} has ${remoteHead.slice(0, 12)}, which HEAD does not contain): git pull --rebase ${remote} ${branch.stdout}, then run nx release again`);
  }
  if (lastRelease && !remoteTagCommit(listed.refs, lastRelease.tag)) return refusal(unfinishedLastReleaseProblem(lastRelease, remote, head.stdout, product));
  const unfetched = await releaseTagsNotFetched(root, listed.refs);
  if (unfetched.length > 0) return refusal(unfetchedReleaseTagsProblem(unfetched, remote, lastRelease?.tag));
  return { notices };
}

/**
 * A branch only this clone has: its release would push it to the remote with the release commit,
 * so a feature branch would become a public release off main, whose version main could then not
 * take. Releasing from a branch is a choice made by pushing it first (release/1.0, README).
 */
function unsharedBranchProblem(branch: string, remote: string): string {
  return `${branch} is not on ${remote}, so this release would be made from a branch only this clone has: switch to the branch to release from (git switch main), or push this one first if it is such a branch (git push -u ${remote} ${branch}); then run nx release again`;
}

/**
 * The release commit and its annotated tag need a name and an email, which git may fail to guess
 * (a CI runner or a container with no user.email and a host name without a domain): asked before
 * nx release writes VERSION and CHANGELOG.md, rather than found by `git commit` after.
 */
async function missingIdentityProblem(root: string): Promise<string | undefined> {
  const answers = await Promise.all(['GIT_AUTHOR_IDENT', 'GIT_COMMITTER_IDENT'].map((variable) => gitAnswer(root, ['var', variable])));
  const refused = answers.find((answer) => !answer.ok);
  if (!refused) return undefined;
  const why = refused.stderr.split('\n').filter((line) => line.startsWith('fatal: ')).pop()?.slice('fatal: '.length) ?? 'git var failed';
  return `git has no name and email to make the release commit and tag with (${why}): set them (git config user.name "Release Manager" && git config user.email release@example.org), then run nx release again`;
}

/**
 * A clone made with --depth (a CI checkout's default) holds part of the history and only the tags
 * on it: nx release would find no release tag, call this the first release (or fall back to the
 * VERSION file), and write a changelog of the commits it happens to hold.
 */
function shallowCloneProblem(remote: string): string {
  return `this clone is shallow (git clone --depth, or a CI checkout without fetch-depth: 0): nx release needs every commit since the last release and its tag to pick the version and write the changelog; fetch them (git fetch --unshallow --tags ${remote}), then run nx release again`;
}

/**
 * Release tags of the remote, in HEAD's history, that this clone lacks (fetched with --no-tags, or
 * tags deleted here): nx release would take the version and the changelog from an older release,
 * or from the first commit, and could cut a version below one already released.
 */
async function releaseTagsNotFetched(root: string, remoteRefs: ReadonlyMap<string, string>): Promise<string[]> {
  const local = await gitAnswer(root, [...allReleaseTagsGitArgs]);
  const here = new Set(local.ok ? local.stdout.split('\n') : []);
  const remoteTags = [...remoteRefs.keys()]
    .filter((ref) => ref.startsWith('refs/tags/') && !ref.endsWith('^{}'))
    .map((ref) => ref.slice('refs/tags/'.length))
    .filter((tag) => !here.has(tag));
  const missing = releaseTagsIn(remoteTags.join('\n'), '');
  const inHistory = await Promise.all(missing.map(async (tag) => (await gitAnswer(root, ['merge-base', '--is-ancestor', remoteTagCommit(remoteRefs, tag)!, 'HEAD'])).ok));
  return missing.filter((_, index) => inHistory[index]);
}

function unfetchedReleaseTagsProblem(tags: readonly string[], remote: string, lastRelease: string | undefined): string {
  const named = tags.length > 3 ? `${tags.slice(0, 3).join(', ')} and ${tags.length - 3} more` : tags.join(', ');
  const from = lastRelease ? `from ${lastRelease}` : 'as a first release';
  return `${remote} has release tags in HEAD's history that this clone lacks (${named}): without them nx release would pick the version and the changelog ${from}; fetch them (git fetch --tags ${remote}), then run nx release again`;
}

/** The newest release tag in HEAD's history, and its commit; undefined before the first release. */
export async function lastReleaseTag(root: string): Promise<{ tag: string; commit: string } | undefined> {
  const tag = await lastReleaseTagName(root);
  const commit = tag && (await gitAnswer(root, ['rev-parse', '-q', '--verify', `refs/tags/${tag}^{commit}`]));
  return tag && commit && commit.ok ? { tag, commit: commit.stdout } : undefined;
}

async function lastReleaseTagName(root: string): Promise<string | undefined> {
  const tags = await gitAnswer(root, [...mergedReleaseTagsGitArgs]);
  return tags.ok ? previousReleaseTagIn(tags.stdout, '') : undefined;
}

/**
 * The last release in HEAD's history was tagged here and never pushed: a release that stopped
 * before its push, so nothing of it is public. A new version on top would ship its CHANGELOG section
 * and link to its tag as if it had been released; nx release would call a run with no new commit
 * "nothing to release". It is finished or abandoned first, from its own release commit.
 */
function unfinishedLastReleaseProblem(last: { tag: string; commit: string }, remote: string, head: string, product: string): string {
  const unfinished = `${last.tag} (${last.commit.slice(0, 12)}), the last release in HEAD's history, is not on ${remote}: it stopped before its push, so it is not public`;
  if (last.commit === head) {
    return `${unfinished}. Finish it with npx nx release publish, or undo it with ${abandonReleaseCommandOf(product)}, then run nx release again`;
  }
  return `${unfinished}. Finish it from its release commit (git checkout ${last.tag} && npx nx release publish, then come back to this branch), or delete its tag (git tag -d ${last.tag}) to release over it; then run nx release again`;
}

export interface NewVersionCheckRequest {
  root: string;
  remote: string;
  /** The last release's version as nx release resolved it (its tag, else the VERSION file), if any. */
  current: string | null | undefined;
  next: string;
  tag: string;
  dryRun: boolean;
}

/**
 * Why `next` must not be released, in one line, or undefined. A version at or below the last
 * release would otherwise be published (and move `latest` back), or stop at `git tag` with git's
 * own words; a tag that exists elsewhere (another branch, or pushed by someone else) would stop only
 * at `git push`, after its images had replaced the other release's under the same tag.
 */
export async function newVersionProblem({ root, remote, current, next, tag, dryRun }: NewVersionCheckRequest): Promise<string | undefined> {
  const last = await lastReleaseVersion(root, current);
  if (last && valid(next) && compare(next, last) <= 0) return notAboveProblem(next, tag, last);
  const local = await gitAnswer(root, ['rev-parse', '-q', '--verify', `refs/tags/${tag}^{commit}`]);
  const listed = (await hasRemote(root, remote)) ? await lsRemote(root, remote, [`refs/tags/${tag}`, `refs/tags/${tag}^{}`], ['--tags']) : { refs: new Map<string, string>() };
  if ('failure' in listed) {
    if (local.ok) return strayTagProblem(tag, local.stdout);
    return dryRun ? undefined : `could not ask ${remote} whether ${tag} exists (${listed.failure}): fix the remote's URL, credentials or network, then run nx release again`;
  }
  const holder = remoteTagCommit(listed.refs, tag);
  if (local.ok && holder === local.stdout) return olderLineProblem(tag, holder, remote, current);
  if (local.ok) return strayTagProblem(tag, local.stdout);
  if (holder) return `${tag} already exists on ${remote} (at ${holder.slice(0, 12)}): someone else released it: git pull --tags ${remote}, then release the next version`;
  return undefined;
}

/**
 * The highest of the version nx release resolved and the release tags in HEAD's history. Nx resolves
 * the last stable release when no pre-release id is given, so after v3.1.0-rc.1 it would take
 * 3.1.0-rc.0, 3.1.0-beta.1 or `prerelease`'s 3.0.2-0, each below the rc already published.
 */
async function lastReleaseVersion(root: string, current: string | null | undefined): Promise<string | undefined> {
  const versions = [current && valid(current) ? current : undefined, (await lastReleaseTagName(root))?.slice(1)].filter((version): version is string => version !== undefined);
  return versions.sort(rcompare)[0];
}

function notAboveProblem(next: string, tag: string, last: string): string {
  if (compare(next, last) === 0) {
    return `${next} is the version already released (${tag}): give a higher version, or major, minor or patch; to finish an unfinished ${tag}, run npx nx release publish`;
  }
  const above = prerelease(last) ? `${inc(last, 'prerelease')} (the next ${prerelease(last)![0]}) or ${inc(last, 'patch')}` : `${last}, or major, minor or patch`;
  return `${next} is below the last release ${last}: give a version above ${above}`;
}

function strayTagProblem(tag: string, commit: string): string {
  return `${tag} already exists here (at ${commit.slice(0, 12)}), not in this branch's history: give another version, or delete the stray tag (git tag -d ${tag})`;
}

/**
 * The tag is a release of another branch (on the remote too): this branch is an older line, e.g.
 * release/1.0 after v1.1.0, where a backported feat: asks for the minor that main already released.
 */
function olderLineProblem(tag: string, holder: string, remote: string, current: string | null | undefined): string {
  const within = current && valid(current) ? ` (npx nx release patch gives ${inc(current, 'patch')})` : '';
  return `${tag} is already released from another branch (at ${holder.slice(0, 12)} on ${remote}), not in this branch's history, so this branch is an older line: give a version above its last release and below ${tag}${within}, or release from the branch ${tag} is on`;
}

async function lsRemote(root: string, remote: string, refs: readonly string[], options: readonly string[] = []): Promise<{ refs: Map<string, string> } | { failure: string }> {
  const result = await gitCommand(root, ['ls-remote', ...options, remote, ...refs], { timeout: 30_000, env: nonInteractiveGitEnv(root) });
  if (!result.ok) {
    const said = result.stderr.trim().split('\n').filter(Boolean).pop() || (result.timedOut ? 'no answer in 30 s' : 'git ls-remote failed');
    return { failure: withoutUrlCredentials(said) };
  }
  return { refs: lsRemoteRefs(result.stdout) };
}
