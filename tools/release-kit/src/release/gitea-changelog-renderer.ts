import { execFileSync } from 'node:child_process';
import { commitUrl, compareUrl, giteaLocationFrom, mergedReleaseTagsGitArgs, previousReleaseTagIn, releaseTagOf } from '@changemaker/release-contract';
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
    const tag = releaseTagOf(version);
    const previous = previousReleaseTag(tag);
    const title = previous ? `[${version}](${compareUrl(this.gitea, previous, tag)})` : version;
    return `## ${title}${date}`;
  }
}

/** The release before `tag` (release-contract's definition); the changelog is rendered before `tag` exists. */
function previousReleaseTag(tag: string): string | undefined {
  try {
    return previousReleaseTagIn(execFileSync('git', [...mergedReleaseTagsGitArgs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), tag);
  } catch {
    return undefined;
  }
}
