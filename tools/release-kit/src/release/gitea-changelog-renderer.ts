import { execFileSync } from 'node:child_process';
import { changelogBaseTagIn, commitUrl, compareUrl, giteaLocationFrom, mergedReleaseTagsGitArgs, releaseTagOf, type GiteaLocation } from '@changemaker/release-contract';
import { saysBreakingOnlyAsNxDoesNotRead, withBreakingChangeFooterNxReads } from '@changemaker/release-flow';
import DefaultChangelogRenderer, { type ChangelogChange } from 'nx/release/changelog-renderer';

/**
 * nx release's changelog, with commit and compare links into the Gitea repository (GITEA_URL,
 * GITEA_REPO): nx links only to GitHub and GitLab. Every entry gets a `## ` heading, majors
 * included, so publish-release finds a version's section the same way for every version.
 */
export default class GiteaChangelogRenderer extends DefaultChangelogRenderer {
  private readonly gitea = giteaLocationFrom(process.env);

  /**
   * Nx's sections, with the breaking changes first rather than last: an operator reading the
   * release notes before an upgrade must not miss them under a long list of fixes.
   */
  override async render(): Promise<string> {
    this.preprocessChanges();
    if (this.shouldRenderEmptyEntry()) return this.renderEmptyEntry();
    // Rendered before the breaking changes are read: nx collects them while it renders the types.
    const changesByType = this.renderChangesByType();
    const sections = [
      [this.renderVersionTitle()],
      this.hasBreakingChanges() ? this.renderBreakingChanges() : [],
      changesByType,
      this.hasDependencyBumps() ? this.renderDependencyBumps() : [],
      this.shouldRenderAuthors() ? await this.renderAuthors() : [],
    ];
    return sections
      .filter((section) => section.length > 0)
      .map((section) => section.join('\n').trim())
      .join('\n\n')
      .trim();
  }

  /** A change whose footer says `BREAKING-CHANGE:` breaks something, as one saying `BREAKING CHANGE:` does for Nx. */
  override preprocessChanges(): void {
    this.changes = this.changes.map((change) => (!change.isBreaking && saysBreakingOnlyAsNxDoesNotRead(change.body ?? '') ? { ...change, isBreaking: true } : change));
    super.preprocessChanges();
  }

  override formatChange(change: ChangelogChange): string {
    const [first = '', ...rest] = super.formatChange({ ...change, description: literalAngleBrackets(change.description) }).split('\n');
    return [`${first}${this.references(change)}`, ...rest].join('\n');
  }

  override formatBreakingChangeBase(change: ChangelogChange): string {
    return `${super.formatBreakingChangeBase({ ...change, description: literalAngleBrackets(change.description) })}${this.references(change)}`;
  }

  override extractBreakingChangeExplanation(message: string): string | null {
    const explanation = super.extractBreakingChangeExplanation(message && withBreakingChangeFooterNxReads(message));
    return explanation === null ? null : literalAngleBrackets(explanation);
  }

  override renderVersionTitle(): string {
    const version = this.entryVersion();
    const date = this.changelogRenderOptions['versionTitleDate'] ? ` (${new Date().toISOString().slice(0, 10)})` : '';
    const tag = releaseTagOf(version);
    const base = changelogBaseTag(tag);
    const title = base ? `[${version}](${compareUrl(this.gitea, base, tag)})` : version;
    return `## ${title}${date}`;
  }

  /**
   * Nx's entry for a version whose commits list nothing (entryWhenNoChanges) speaks of a version
   * bump since the last release; a first release has none, and ships everything its commits made,
   * so its notes say only what it is.
   */
  override renderEmptyEntry(): string {
    // Asked last: whether this is the first release takes a git command.
    if (this.entryWhenNoChanges === false || this.hasDependencyBumps() || changelogBaseTag(releaseTagOf(this.entryVersion())) !== undefined) return super.renderEmptyEntry();
    return `${this.renderVersionTitle()}\n\nThe first release.`;
  }

  private entryVersion(): string {
    return this.changelogEntryVersion.replace(/^v/, '');
  }

  /**
   * The commit's link, after the pull request's when the subject ended with one: nx takes "(#12)",
   * which Gitea's squash merge appends, out of the description and links it only for GitHub.
   */
  private references(change: ChangelogChange): string {
    const pulls = (change.githubReferences ?? []).filter((reference) => reference.type === 'pull-request' && /^#\d+$/.test(reference.value));
    const links = [
      ...pulls.map((pull) => `[${pull.value}](${pullUrl(this.gitea, pull.value.slice(1))})`),
      ...(change.shortHash ? [`[${change.shortHash}](${commitUrl(this.gitea, change.shortHash)})`] : []),
    ];
    return links.length > 0 ? ` (${links.join(', ')})` : '';
  }
}

/**
 * `text` with its < and > escaped outside code spans: a commit subject's placeholder
 * (/var/log/<service>/) is read as an HTML tag, which Gitea's sanitiser drops from the notes.
 */
function literalAngleBrackets(text: string): string {
  return text
    .split(/(`+[^`]*?`+)/)
    .map((part, index) => (index % 2 === 1 ? part : part.replace(/[<>]/g, (bracket) => `\\${bracket}`)))
    .join('');
}

function pullUrl(location: GiteaLocation, index: string): string {
  return `${location.url}/${location.repo}/pulls/${index}`;
}

/** Where this section's commits start (see changelogBaseTagIn); the changelog is rendered before `tag` exists. */
function changelogBaseTag(tag: string): string | undefined {
  try {
    const tags = execFileSync('git', [...mergedReleaseTagsGitArgs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return changelogBaseTagIn(tags, tag);
  } catch {
    return undefined;
  }
}
