import { prerelease } from 'semver';

/**
 * Whether a version (or its tag) is a pre-release, like 2.0.0-rc.1: its Gitea release is marked a
 * pre-release, which Gitea's releases/latest skips, so install.sh and upgrade.sh without --version
 * keep installing the last stable release instead of a release candidate.
 */
export function isPrereleaseVersion(version: string): boolean {
  return (prerelease(version.replace(/^v/, '')) ?? []).length > 0;
}
