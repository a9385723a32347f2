import { execFileSync } from 'node:child_process';
import { commitUrl, compareUrl, giteaLocationFrom, releaseTagOf } from '@changemaker/release-contract';
import DefaultChangelogRenderer, { type ChangelogChange } from 'nx/release/changelog-renderer';

/**
 * nx release's changelog, with commit and compare links into the Gitea repository (GITEA_URL,
 * GITEA_REPO): nx links only to GitHub and GitLab. Every entry gets a `## ` heading, majors
 * included, so publish-release finds a version's section the same way for every version.
 */
export default class GiteaChangelogRenderer extends DefaultChangelogRenderer {
  private readonly gitea = giteaLocationFrom(process.env);

  override formatChange(change: ChangelogChange): string {
    const [first = '', ...rest] = super.formatChange(change).split('\n');
    const link = change.shortHash ? ` ([${change.shortHash}](${commitUrl(this.gitea, change.shortHash)}))` : '';
    return [`${first}${link}`, ...rest].join('\n');
  }

  override renderVersionTitle(): string {
    const version = this.changelogEntryVersion.replace(/^v/, '');
    const date = this.changelogRenderOptions['versionTitleDate'] ? ` (${new Date().toISOString().slice(0, 10)})` : '';
    const previous = previousReleaseTag();
    const title = previous ? `[${version}](${compareUrl(this.gitea, previous, releaseTagOf(version))})` : version;
    return `## ${title}${date}`;
  }
}

/** The release before this one: the newest v* tag reachable from HEAD (the new tag does not exist yet). */
function previousReleaseTag(): string | undefined {
  try {
    return execFileSync('git', ['describe', '--tags', '--abbrev=0', '--match', 'v[0-9]*'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}
