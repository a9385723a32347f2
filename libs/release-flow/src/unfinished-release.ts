/**
 * The last line of a real `nx release` that failed after its release commit and tag were made
 * (README, "All or nothing, and what a failure leaves"): what is left and the two ways on.
 * `pushed`: the release commit is already on the remote (only the publishing PATCH can fail then).
 */
export function unfinishedReleaseLine(tag: string, pushed: boolean): string {
  if (pushed) return `${tag}: the release commit and tag are pushed, the release is not published: finish it with npx nx release publish`;
  return (
    `${tag}: the release commit and tag are local only (nothing was pushed): finish with npx nx release publish, ` +
    `or abandon with git tag -d ${tag} && git reset --hard HEAD~1 (and delete the draft in Gitea's web UI, if one was made)`
  );
}
