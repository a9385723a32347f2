import type { NxJsonConfiguration } from '@nx/devkit';
import { releaseTagPattern } from '@changemaker/release-contract';

/**
 * What in nx.json's `release` block this release flow cannot work with, in one line; undefined when
 * nothing. The flow tags `v{version}` (image tags, install.sh and upgrade.sh read releases so), and
 * pushes the release commit and tag itself, once the release is uploaded to Gitea as a draft: Nx
 * pushing them at the version step would make the tag public before any image or asset exists,
 * and a release Nx creates on GitHub or GitLab is no release of this product.
 */
export function nxReleaseSettingsProblem(release: NxJsonConfiguration['release'], tagPattern: string): string | undefined {
  if (tagPattern !== releaseTagPattern) {
    return `nx.json's release tag pattern is "${tagPattern}", but this product's releases are tagged ${releaseTagPattern} (its images, install.sh and upgrade.sh find them so): set release.releaseTag.pattern to "${releaseTagPattern}"`;
  }
  if (release?.git?.push === true || release?.version?.git?.push === true || release?.changelog?.git?.push === true) {
    return "nx.json's release git.push is true, which pushes the release commit and tag at the version step, before any image or Gitea asset exists: set it to false; the publish step pushes them once the release is uploaded";
  }
  const workspaceChangelog = release?.changelog?.workspaceChangelog;
  if (typeof workspaceChangelog === 'object' && workspaceChangelog.createRelease) {
    return "nx.json's release.changelog.workspaceChangelog.createRelease asks Nx for a GitHub or GitLab release; this product's release is published to Gitea by the publish step: set it to false";
  }
  return undefined;
}
