/** The product's inferred target that undoes a release stopped before it was pushed: its draft, tag and release commit. */
export const abandonReleaseTargetName = 'abandon-release';

/** The target `nx release publish` runs on every release project: Nx's name, which it runs only by. */
export const releasePublishTargetName = 'nx-release-publish';

/**
 * The product's own targets, which its project.json declares (docker/project.json) under these
 * names: lines that advise running one by hand name them so. package-release is also the target
 * nx release packages with unless release-product's packageTarget names another (its schema.json default).
 */
export const mirrorImagesTargetName = 'mirror-images';
export const packageReleaseTargetName = 'package-release';
export const publishReleaseTargetName = 'publish-release';

/**
 * The command a line advises for `target` of `project`: `nx run`, not `nx run-many -t`, which hides a
 * successful task's output. The release flow's own targets are on the released product, whatever
 * the workspace names its project (`docker` here), so every such line is given its name.
 */
export function nxRunCommand(project: string, target: string, args = ''): string {
  return `npx nx run ${project}:${target}${args ? ` ${args}` : ''}`;
}

/** The command that abandons the release of `product`, the released project. */
export function abandonReleaseCommandOf(product: string): string {
  return nxRunCommand(product, abandonReleaseTargetName);
}
