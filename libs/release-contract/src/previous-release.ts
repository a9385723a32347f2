/**
 * The release before this one, for the changelog's compare link and for the image plan's "tag
 * registry-side from vX": the highest release tag merged into HEAD other than this release's own.
 * One definition, so both name the same release.
 */

/** `git` arguments that list the release tags merged into HEAD, highest version first. */
export const mergedReleaseTagsGitArgs: readonly string[] = ['tag', '--merged', 'HEAD', '--list', 'v[0-9]*', '--sort=-v:refname'];

/** The release before `currentTag`, read from what `git` printed for {@link mergedReleaseTagsGitArgs}. */
export function previousReleaseTagIn(mergedReleaseTags: string, currentTag: string): string | undefined {
  return mergedReleaseTags
    .split('\n')
    .map((tag) => tag.trim())
    .find((tag) => tag !== '' && tag !== currentTag);
}
