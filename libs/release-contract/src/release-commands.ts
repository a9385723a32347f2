/** The product's inferred target that undoes a release stopped before it was pushed: its draft, tag and release commit. */
export const abandonReleaseTargetName = 'abandon-release';

/** The target `nx release publish` runs on every release project: Nx's name, which it runs only by. */
export const releasePublishTargetName = 'nx-release-publish';

/**
 * The command every line advising it names. `nx run`, not `nx run-many -t`, which hides a
 * successful task's output; on the product project, `docker`, as every command the release flow
 * advises (docker:mirror-images, docker:publish-release).
 */
export const abandonReleaseCommand = `npx nx run docker:${abandonReleaseTargetName}`;
