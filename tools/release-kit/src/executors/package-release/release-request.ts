import type { ProjectConfiguration } from '@nx/devkit';
import type { ReleaseRequest } from '@changemaker/release-bundle';
import { giteaLocationFrom, packageReleaseTargetName } from '@changemaker/release-contract';
import { releaseRegistryOf } from '@changemaker/release-flow';
import { productReleaseTargetOf, productRegistryOptionOf } from '../../release/product-release-target';
import { workspaceImagesOf, type WorkspaceProjects } from '../../release/workspace-images';
import type { PackageReleaseOptions } from './schema';

/**
 * The file list the product's release packages: the options of the target its release-product
 * target names (packageTarget), or `packageTarget` when given; undefined when that target lists no sources.
 */
export function packagingOptionsOf(product: ProjectConfiguration | undefined, packageTarget?: string): PackageReleaseOptions | undefined {
  const releaseTarget = productReleaseTargetOf(product);
  const options = product?.targets?.[packageTarget ?? (releaseTarget?.options?.packageTarget as string | undefined) ?? packageReleaseTargetName]?.options as PackageReleaseOptions | undefined;
  return options?.sources ? options : undefined;
}

/**
 * What package-release packages for `tag` of `product`, from its options: publish-release's dry run
 * and nx release's packaging check plan from the same.
 */
export function releaseRequestOf(
  options: Pick<PackageReleaseOptions, 'sourceRoot' | 'bundleRoot' | 'sources' | 'renames' | 'emptyDirectories' | 'composeFile' | 'mirrorManifest'>,
  workspace: WorkspaceProjects,
  product: string,
  tag: string,
): ReleaseRequest {
  return {
    workspaceRoot: workspace.root,
    tag,
    fileList: {
      sourceRoot: options.sourceRoot ?? 'docker',
      bundleRoot: options.bundleRoot ?? 'changemaker-lite',
      sources: options.sources,
      renames: options.renames ?? {},
      emptyDirectories: options.emptyDirectories ?? [],
    },
    composeFile: options.composeFile ?? 'docker-compose.yml',
    mirrorManifest: options.mirrorManifest ?? 'docker/mirror-images.json',
    workspaceImages: workspaceImagesOf(workspace),
    // The registry the release is cut against, as nx release's: the plugin's registry option, else GITEA_REGISTRY.
    registry: releaseRegistryOf(productRegistryOptionOf(workspace.projects[product]), process.env),
    // Where the release is published, as publish-release and nx release publish it: upgrade.sh asks it for the next one.
    gitea: giteaLocationFrom(process.env),
    env: process.env,
  };
}
