/** Reasons a publish stops before (or instead of) changing anything on the server. */
export class PublishError extends Error {
  override readonly name: string = 'PublishError';
}

/** The files to upload are missing or do not match their SHA256SUMS. */
export class ReleaseInputError extends PublishError {
  override readonly name = 'ReleaseInputError';
}

/** A published release holds the tag and --replace was not given. */
export class ReleaseExistsError extends PublishError {
  override readonly name = 'ReleaseExistsError';
  constructor(tag: string, releaseUrl: string) {
    super(
      `A release for ${tag} already exists: ${releaseUrl}. Published tags are immutable, because users on ${tag} ` +
        'would see "no update available" while the files they download changed. Bump the version (nx release) ' +
        'to ship new contents, or re-run with --replace to overwrite this release deliberately.',
    );
  }
}

/**
 * Gitea answered 500 to the PATCH that publishes. Production Gitea names no cause to non-admins;
 * the one a publish can cause is a release whose tag Gitea must create from a commit it lacks.
 */
export class PublishRefusedError extends PublishError {
  override readonly name = 'PublishRefusedError';
  constructor(tag: string, target: string | undefined, giteaMessage: string) {
    super(
      `Gitea answered 500 to publishing ${tag}${giteaMessage ? ` (${giteaMessage})` : ''}. Gitea creates the tag ${tag} ` +
        `from ${target ? `commit ${target}` : 'the default branch'} when it publishes: if neither is on Gitea yet, push them ` +
        `(pushing ${tag} also publishes this draft as it stands, its assets verified and its notes set), then re-run; ` +
        'otherwise Gitea\'s log says why. The draft and its assets stay.',
    );
  }
}

/** An uploaded asset kept coming back different from what was sent, or went missing. */
export class AssetVerificationError extends PublishError {
  override readonly name = 'AssetVerificationError';
  constructor(assetName: string, problem: string) {
    super(
      `${assetName} could not be verified on Gitea (${problem}). Nothing incomplete was made public; ` +
        'check the Gitea storage and any proxy in between, then re-run to finish it.',
    );
  }
}

/** Another publisher's --replace of the same tag holds the release; nothing was changed. */
export class ReplaceInProgressError extends PublishError {
  override readonly name = 'ReplaceInProgressError';
  constructor(tag: string, claimName: string, claimedAt: string | undefined, abandonedAt: string | undefined) {
    super(
      `Another --replace of ${tag} is in progress (its claim ${claimName} was uploaded ${claimedAt ? `at ${claimedAt}` : 'earlier'}), ` +
        'so nothing was changed. Let it finish and check the release; if that run died, re-run ' +
        `${abandonedAt ? `after ${abandonedAt}, when its claim counts as abandoned, ` : ''}or delete that asset in Gitea first.`,
    );
  }
}
