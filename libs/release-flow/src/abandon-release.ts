import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GiteaError, isStampedBy, type Release, type ReleaseClient } from '@changemaker/gitea';
import { releaseTagOf, versionFileName, versionInFile } from '@changemaker/release-contract';
import { gitAnswer, quotedSubject, uncommittedFiles } from './git-command';
import { clearHeldElsewhere, releasePublisherId } from './release-claim';
import { ReleaseFlowError } from './release-flow-errors';
import type { ReleaseStage } from './release-stage';
import { isReleaseCommitSubject } from './git-remote';
import { readUnfinishedRelease } from './unfinished-release';

/**
 * Undoes a release that stopped before it was pushed (README, "All or nothing, and what a failure
 * leaves"): the draft that claimed its tag in Gitea, the release tag and the release commit, in that
 * order, each only once everything has been checked: that HEAD is the release commit, that neither it
 * nor its tag reached the remote (a release whose tag was pushed is public and is finished, never
 * abandoned), and that the draft is this release commit's, not another's. A dry run walks the same
 * checks and says what it would delete.
 */

export class AbandonRefusedError extends ReleaseFlowError {}

export interface AbandonRequest {
  /** The workspace (a git checkout) and the released project's directory in it. */
  root: string;
  productRoot: string;
  /** The remote nx release pushes to. */
  remote: string;
  gitea: ReleaseClient;
  dryRun: boolean;
}

/** What the checks found, for the deleting stages and the summary. */
export interface Abandonment {
  request: AbandonRequest;
  tag: string;
  head: string;
  subject: string;
  tagged: boolean;
  /** The commit HEAD goes back to. */
  previous: { sha: string; subject: string };
  /** This release commit's draft, to delete. */
  draft?: Release;
  /** What each checking stage found, or could not find out (a dry run only), in a line. */
  found: { remote?: string; gitea?: string };
}

/** Reads HEAD and the product's VERSION: the release to abandon, or why there is none. */
export async function abandonmentOf(request: AbandonRequest): Promise<Abandonment> {
  const versionFile = join(request.productRoot, versionFileName);
  const version = versionInFile(await readFile(join(request.root, versionFile), 'utf8').catch(() => ''));
  if (!version) throw new AbandonRefusedError(`${versionFile} holds no version: there is no release here to abandon`);
  const tag = releaseTagOf(version);
  const head = await gitAnswer(request.root, ['log', '-1', '--format=%H%x1f%s']);
  const [sha = '', subject = ''] = head.stdout.split('\x1f');
  if (!head.ok || !isReleaseCommitSubject(subject, tag)) {
    throw new AbandonRefusedError(`HEAD${subject ? ` (${quotedSubject(subject)})` : ''} is not ${tag}'s release commit, so there is no unfinished release to abandon: nothing was changed`);
  }
  const parent = await gitAnswer(request.root, ['log', '-1', '--format=%H%x1f%s', 'HEAD~1']);
  if (!parent.ok) throw new AbandonRefusedError(`${tag}'s release commit is the repository's first commit: there is no commit to go back to, nothing was changed`);
  const [previousSha = '', previousSubject = ''] = parent.stdout.split('\x1f');
  // Untracked files are no concern of git reset --keep.
  const tracked = (await uncommittedFiles(request.root, [], { untracked: false })) ?? [];
  if (tracked.length > 0) {
    throw new AbandonRefusedError(`the checkout has uncommitted changes (${tracked.slice(0, 3).join(', ')}${tracked.length > 3 ? ', …' : ''}), which undoing the release commit could mix with its own: commit or stash them first; nothing was changed`);
  }
  const tagged = (await gitAnswer(request.root, ['rev-parse', '-q', '--verify', `refs/tags/${tag}^{commit}`])).stdout === sha;
  return { request, tag, head: sha, subject, tagged, previous: { sha: previousSha, subject: previousSubject }, found: {} };
}

export function abandonStages(): ReleaseStage<Abandonment>[] {
  return [remoteStage, giteaStage, deleteDraftStage, deleteTagStage, undoCommitStage];
}

const remoteStage: ReleaseStage<Abandonment> = {
  name: 'remote',
  writes: false,
  skipReason: (abandonment) =>
    abandonment.tagged ? undefined : `${abandonment.tag} is not tagged: nx release pushes the release commit and its tag together, so nothing of it was pushed`,
  describe: (abandonment) => [abandonment.found.remote ?? ''],
  async run(abandonment) {
    const { root, remote, dryRun } = abandonment.request;
    const state = readUnfinishedRelease({ root, head: abandonment.head, changed: [], remote }, abandonment.tag);
    switch (state.kind) {
      case 'pushed':
        throw new AbandonRefusedError(
          `${remote} has ${abandonment.tag} at this release commit, so the release is public (Gitea published it when the tag arrived): finish it with npx nx release publish; it cannot be abandoned. Nothing was changed`,
        );
      case 'remote-unknown': {
        const said = `could not ask ${remote} whether ${abandonment.tag} was pushed (${state.reason})`;
        if (!dryRun) throw new AbandonRefusedError(`${said}: abandon only once git ls-remote ${remote} ${abandonment.tag} lists nothing; nothing was changed`);
        abandonment.found.remote = `${said}; a real run stops here until it can`;
        return;
      }
      case 'elsewhere':
        abandonment.found.remote = `${state.where} has ${abandonment.tag} at another commit (${state.commit.slice(0, 12)}): this release commit's was never pushed`;
        return;
      default:
        abandonment.found.remote = `${remote} does not have ${abandonment.tag}: nothing of this release was pushed`;
    }
  },
};

const giteaStage: ReleaseStage<Abandonment> = {
  name: 'gitea',
  writes: false,
  describe: (abandonment) => [abandonment.found.gitea ?? ''],
  async run(abandonment) {
    const { gitea, dryRun } = abandonment.request;
    const where = `${gitea.giteaUrl} (${gitea.repo})`;
    if (!gitea.hasToken) {
      if (!dryRun) {
        throw new AbandonRefusedError(
          `GITEA_REGISTRY_API_TOKEN is not set, so the draft that claims ${abandonment.tag} in ${where} can be neither seen nor deleted: export the token nx release used and run again; nothing was changed`,
        );
      }
      abandonment.found.gitea = `no GITEA_REGISTRY_API_TOKEN: drafts cannot be seen; a real run needs it`;
      return;
    }
    let release: Release | undefined;
    try {
      release = await gitea.findReleaseByTag(abandonment.tag);
    } catch (error) {
      if (!dryRun || !(error instanceof GiteaError)) throw error;
      abandonment.found.gitea = `could not look ${abandonment.tag} up in ${where}: ${error.message}`;
      return;
    }
    if (!release) {
      abandonment.found.gitea = `${where} has no release for ${abandonment.tag}`;
      return;
    }
    if (!release.draft) {
      throw new AbandonRefusedError(`${abandonment.tag} is published in ${where} (${release.html_url}): finish it with npx nx release publish; it cannot be abandoned. Nothing was changed`);
    }
    if (isStampedBy(release.body ?? '', releasePublisherId(abandonment.tag, abandonment.head)) || release.target_commitish === abandonment.head) {
      abandonment.draft = release;
      abandonment.found.gitea = `${abandonment.tag}'s draft is this release commit's: ${release.html_url}`;
      return;
    }
    abandonment.found.gitea = `${abandonment.tag}'s draft belongs to another release commit (${(release.target_commitish ?? 'unknown').slice(0, 12)}): left alone, ${release.html_url}`;
  },
};

const deleteDraftStage: ReleaseStage<Abandonment> = {
  name: 'delete-draft',
  writes: true,
  skipReason: (abandonment) => (abandonment.draft ? undefined : 'no draft of this release commit to delete'),
  describe: (abandonment) => [`DELETE ${abandonment.tag}'s draft, with any files uploaded to it: ${abandonment.draft?.html_url}`],
  async run(abandonment) {
    if (abandonment.draft) await abandonment.request.gitea.deleteRelease(abandonment.draft.id);
  },
};

const deleteTagStage: ReleaseStage<Abandonment> = {
  name: 'delete-tag',
  writes: true,
  skipReason: (abandonment) => (abandonment.tagged ? undefined : `${abandonment.tag} is not tagged here`),
  describe: (abandonment) => [`git tag -d ${abandonment.tag}`],
  async run(abandonment) {
    await gitOrThrow(abandonment.request.root, ['tag', '-d', abandonment.tag], `could not delete the tag ${abandonment.tag}`);
  },
};

const undoCommitStage: ReleaseStage<Abandonment> = {
  name: 'undo-commit',
  writes: true,
  describe: (abandonment) => [`git reset --keep HEAD~1: back to ${abandonment.previous.sha.slice(0, 12)} (${quotedSubject(abandonment.previous.subject)}), before ${quotedSubject(abandonment.subject)}`],
  async run(abandonment) {
    const { root } = abandonment.request;
    await gitOrThrow(root, ['reset', '--keep', 'HEAD~1'], `could not undo the release commit ${abandonment.head.slice(0, 12)}`);
    clearHeldElsewhere(root, abandonment.tag);
  },
};

async function gitOrThrow(root: string, args: readonly string[], failure: string): Promise<void> {
  const result = await gitAnswer(root, args);
  if (!result.ok) throw new AbandonRefusedError(`${failure} (${result.stderr.split('\n').pop() || `git ${args[0]} failed`}): run git ${args.join(' ')} yourself once that is fixed`);
}
