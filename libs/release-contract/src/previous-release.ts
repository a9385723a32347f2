import { coerce, gt, gte, prerelease, rcompare, valid } from 'semver';

/**
 * The releases before this one, read from the release tags merged into HEAD: the one just before
 * (the image plan's "tag registry-side from vX", pre-releases included) and the one a changelog
 * section starts from (its compare link).
 */

/** The tags git lists as release tags: `v` and a digit (releaseTagPattern's `v{version}`). */
export const releaseTagGlob = 'v[0-9]*';

/** `git` arguments that list the release tags merged into HEAD (in no order this module relies on). */
export const mergedReleaseTagsGitArgs: readonly string[] = ['tag', '--merged', 'HEAD', '--list', releaseTagGlob];

/** `git` arguments that list every release tag of the clone, on any branch. */
export const allReleaseTagsGitArgs: readonly string[] = ['tag', '--list', releaseTagGlob];

/**
 * A stable release above `version` among every release tag (what git printed for
 * {@link allReleaseTagsGitArgs}): `version` is then a fix for an older line (v1.0.1 from a
 * release/1.0 branch after v1.1.0), which must not move what names the newest release.
 */
export function newerStableReleaseIn(releaseTags: string, version: string): string | undefined {
  return releaseTagsIn(releaseTags, '').find((tag) => prerelease(tag.slice(1)) === null && gt(tag.slice(1), version));
}

/** The release before `currentTag`, read from what `git` printed for {@link mergedReleaseTagsGitArgs}. */
export function previousReleaseTagIn(mergedReleaseTags: string, currentTag: string): string | undefined {
  return releaseTagsIn(mergedReleaseTags, currentTag)[0];
}

/**
 * The release the changelog section of `currentTag` starts from, picked as nx release picks the
 * first commit it lists (its strictPreid default), so that the compare link shows those commits:
 * for a stable version the last stable release (the section of 2.0.0 lists every commit since
 * 1.0.0, the 2.0.0-rc.N's too); for a pre-release the last one of its preid (rc in 2.0.0-rc.1),
 * unless a stable release at or above that one's version came since, else the last stable one.
 */
export function changelogBaseTagIn(mergedReleaseTags: string, currentTag: string): string | undefined {
  const tags = releaseTagsIn(mergedReleaseTags, currentTag);
  const stable = tags.find((tag) => prerelease(tag.slice(1)) === null);
  const preid = prerelease(currentTag.replace(/^v/, ''))?.[0];
  const sameSeries = preid === undefined ? undefined : tags.find((tag) => tag.includes(`-${preid}.`));
  if (!sameSeries) return stable;
  return stable && gte(stable.slice(1), coerce(sameSeries.slice(1))!.version) ? stable : sameSeries;
}

/**
 * The release tags among `tags` (one per line, as git lists them) other than `currentTag`, highest
 * version first. The glob lets through tags that are no release (a floating `v2`, `v1.0-docs`),
 * which nx release ignores too; and the order is semver's, since git's version sort puts
 * v1.0.0-rc.1 above v1.0.0 (and versionsort.suffix changes it).
 */
export function releaseTagsIn(tags: string, currentTag: string): string[] {
  return tags
    .split('\n')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== currentTag && valid(tag.slice(1)) !== null)
    .sort((a, b) => rcompare(a.slice(1), b.slice(1)));
}
