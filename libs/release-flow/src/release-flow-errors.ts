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

export class GitPushError extends ReleaseFlowError {
  constructor(remote: string, refs: string, detail: string) {
    super(`git push to ${remote} of ${refs} failed (${detail}); the release is a draft, invisible to users: fix the push (credentials, a branch that moved on: pull and release again), then re-run nx release publish`);
  }
}

/** The tag's release is public with other assets: never overwritten by a release run. */
export class ReleasePublishedOtherwiseError extends ReleaseFlowError {
  constructor(tag: string, url: string) {
    super(
      `${tag} is already published with other assets (${url}): published tags are immutable, since users on ${tag} would see no update. ` +
        `Release a new version (npx nx release), or overwrite it deliberately with npx nx run docker:publish-release --tag ${tag} --replace`,
    );
  }
}

/** Unsigned, or signed with a key the servers do not trust: install.sh and upgrade.sh would refuse the release. */
export class ReleaseSigningRefusedError extends ReleaseFlowError {}
