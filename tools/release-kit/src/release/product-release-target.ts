import type { ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { executorNamed } from '../executor-names';

/** The product's part of nx release publish: its release-product target, whatever the plugin named it. */
export function productReleaseTargetOf(product: ProjectConfiguration | undefined): TargetConfiguration | undefined {
  return Object.values(product?.targets ?? {}).find((target) => target.executor === executorNamed('release-product'));
}

/**
 * The registry the product's release checks and names its images in, as its release-product target
 * is given it: the plugin's `registry` option (which its image tasks push to), undefined for GITEA_REGISTRY.
 */
export function productRegistryOptionOf(product: ProjectConfiguration | undefined): string | undefined {
  return productReleaseTargetOf(product)?.options?.registry as string | undefined;
}
