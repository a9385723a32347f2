import type { ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { releasePublishTargetName, versionFileName } from '@changemaker/release-contract';
import { executorNamed } from '../executor-names';

/** The product's part of nx release publish: its release-product target, under the one name nx release publish runs. */
export function productReleaseTargetOf(product: ProjectConfiguration | undefined): TargetConfiguration | undefined {
  const target = product?.targets?.[releasePublishTargetName];
  return target?.executor === executorNamed('release-product') ? target : undefined;
}

/**
 * The registry the product's release checks and names its images in, as its release-product target
 * is given it: the plugin's `registry` option (which its image tasks push to), undefined for GITEA_REGISTRY.
 */
export function productRegistryOptionOf(product: ProjectConfiguration | undefined): string | undefined {
  return productReleaseTargetOf(product)?.options?.registry as string | undefined;
}

/**
 * Why nx release cannot publish `name`, or undefined when it can: nx release publish runs its
 * nx-release-publish target, which the plugin gives only the product's VERSION file project.
 * Asked before anything is written: Nx would refuse only at the publish step, after the release
 * commit and tag, and the images would have no release target either.
 */
export function notReleasableProblem(name: string, product: ProjectConfiguration): string | undefined {
  if (productReleaseTargetOf(product)) return undefined;
  return `${name} has no ${releasePublishTargetName} target: the plugin gives one to a single product, the project with a ${versionFileName} file, or, when several projects have one, the one of them that nx.json's release.projects (or a release group) names; name exactly one such project there`;
}
