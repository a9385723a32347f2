import { abandonReleaseCommandOf, nxRunCommand, publishReleaseTargetName } from '@changemaker/release-contract';

/** Every way the release flow stops, each one line saying what is wrong and what to do. */
export class ReleaseFlowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface MissingImage {
  service: string;
  reference: string;
  /** The command that puts it there. */
  fix: string;
}

export class ReleaseImagesMissingError extends ReleaseFlowError {
  constructor(readonly missing: readonly MissingImage[]) {
    const list = missing.map((image) => `${image.service} (${image.reference}: ${image.fix})`).join('; ');
    super(`${missing.length} image${missing.length === 1 ? '' : 's'} the release's compose file pulls ${missing.length === 1 ? 'is' : 'are'} not in the registry as the release needs, so nothing was published: ${list}`);
  }
}

export class RegistryCheckFailedError extends ReleaseFlowError {
  constructor(registry: string, cause: string) {
    super(`could not check the release's images in ${registry} (${cause}); nothing was published: fix the registry or GITEA_REGISTRY, then re-run nx release publish`);
  }
}

export class ReleaseTagError extends ReleaseFlowError {}

/** The release would be pushed to another repository than the Gitea one it is published in. */
export class ForeignRemoteError extends ReleaseFlowError {
  constructor(problem: string) {
    super(`${problem}; nothing was pushed or published: then re-run nx release publish`);
  }
}

export class GitPushError extends ReleaseFlowError {
  constructor(remote: string, refs: string, detail: string) {
    super(`git push to ${remote} of ${refs} failed (${detail}); the release is a draft, invisible to users: fix the push (the remote's URL, credentials, network), then re-run nx release publish`);
  }
}

/**
 * The remote's branch took commits after the release commit was made: no re-run of nx release
 * publish can push that commit (it is not on top of the branch), so the release is abandoned and cut again.
 */
export class ReleaseBranchMovedError extends ReleaseFlowError {
  constructor(remote: string, branch: string, tag: string, product: string) {
    super(
      `git push to ${remote} was refused: ${remote}'s ${branch} has moved on since the release commit was made (someone pushed to it), so nothing was pushed and ${tag} is a draft, invisible to users. ` +
        `nx release publish cannot finish it, since the release commit is not on top of ${remote}'s ${branch}: ${abandonAfterBranchMovedOn(remote, branch, tag, product)}`,
    );
  }
}

/** The remote took the release's tag, at another commit, while this release ran (a preflight refuses it before). */
export class ReleaseTagTakenError extends ReleaseFlowError {
  constructor(remote: string, tag: string, product: string) {
    super(
      `git push to ${remote} was refused: ${remote} already has ${tag}, at another commit (someone released it meanwhile), so nothing was pushed and this ${tag} is a draft, invisible to users. ` +
        `nx release publish cannot finish it: abandon it with ${abandonReleaseCommandOf(product)} (its draft, tag and release commit), then git pull --tags ${remote} and release the next version`,
    );
  }
}

/**
 * The remote's own rules refused the push (a pre-receive hook: on Gitea, a protected branch or tag
 * this git user may not push to). A re-run meets the same refusal until someone with the rights
 * changes them, so both ways on are named.
 */
export class ReleasePushDeclinedError extends ReleaseFlowError {
  constructor(remote: string, tag: string, said: string, product: string) {
    super(
      `git push to ${remote} was refused by the remote's own rules (${said}), so nothing was pushed and ${tag} is a draft, invisible to users: ` +
        `let the git user this clone pushes as push to the branch and create ${tag} (on Gitea: the repository's branch and tag protection), then re-run nx release publish; or abandon it with ${abandonReleaseCommandOf(product)}`,
    );
  }
}

/** The way on once the remote's branch moved on under a release: the same words in the error and in nx release's last line. */
export function abandonAfterBranchMovedOn(remote: string, branch: string, tag: string, product: string): string {
  return `abandon it with ${abandonReleaseCommandOf(product)} (${tag}'s draft, tag and release commit), then git pull --rebase ${remote} ${branch} and run nx release again`;
}

/** The tag's release is public with other assets: never overwritten by a release run. */
export class ReleasePublishedOtherwiseError extends ReleaseFlowError {
  constructor(tag: string, url: string, product: string) {
    super(
      `${tag} is already published with other assets (${url}): published tags are immutable, since users on ${tag} would see no update. ` +
        `Release a new version (npx nx release), or overwrite it deliberately with ${nxRunCommand(product, publishReleaseTargetName, `--tag ${tag} --replace`)}`,
    );
  }
}

/** Our own release, public since its tag arrived, holds other bytes than packaged here: never replaced in public. */
export class PublicReleaseDiffersError extends ReleaseFlowError {}

/** Unsigned, or signed with a key the servers do not trust: install.sh and upgrade.sh would refuse the release. */
export class ReleaseSigningRefusedError extends ReleaseFlowError {}

/** A release that publishes needs the Gitea token before it changes anything, its claim included. */
export class GiteaTokenMissingError extends ReleaseFlowError {
  constructor() {
    super('GITEA_REGISTRY_API_TOKEN is not set: create a token with write:repository on the Gitea and export it (not GITEA_API_TOKEN); nothing was pushed. --dry-run works without one.');
  }
}

/** Another release commit holds the tag's Gitea release (see release-claim.ts): this one must push nothing. */
export class ReleaseHeldElsewhereError extends ReleaseFlowError {
  constructor(
    tag: string,
    commit: string,
    readonly holder: string,
    readonly url: string,
    readonly draft: boolean,
    product: string,
  ) {
    const held = draft ? `is being released from commit ${holder.slice(0, 12)} by another nx release (its draft: ${url})` : `is already released from commit ${holder.slice(0, 12)} (${url})`;
    // A draft whose release was abandoned without deleting it holds the version the same way.
    const abandoned = draft ? `; if nobody is releasing that commit any more, delete its draft in Gitea's web UI and run npx nx release publish again instead` : '';
    super(
      `${tag} ${held}, not from this release commit ${commit.slice(0, 12)}, so nothing of this release was pushed: ` +
        `abandon it with ${abandonReleaseCommandOf(product)}, then git pull (and nx release again if there is more to release)${abandoned}`,
    );
  }
}
