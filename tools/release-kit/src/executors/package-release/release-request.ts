import type { ProjectConfiguration } from '@nx/devkit';
import type { ReleaseRequest } from '@changemaker/release-bundle';
import { registryFrom } from '@changemaker/release-contract';
import { workspaceImagesOf, type WorkspaceProjects } from '../../release/workspace-images';
import { executorNamed } from '../../executor-names';
import type { PackageReleaseOptions } from './schema';

/** release-product's packageTarget default (its schema.json says the same). */
const defaultPackageTarget = 'package-release';

/**
 * The file list the product's release packages: the options of the target its release-product
 * target names (packageTarget), or `packageTarget` when given; undefined when that target lists no sources.
 */
export function packagingOptionsOf(product: ProjectConfiguration | undefined, packageTarget?: string): PackageReleaseOptions | undefined {
  const targets = product?.targets ?? {};
  const releaseTarget = Object.values(targets).find((target) => target.executor === executorNamed('release-product'));
  const options = targets[packageTarget ?? (releaseTarget?.options?.packageTarget as string | undefined) ?? defaultPackageTarget]?.options as PackageReleaseOptions | undefined;
  return options?.sources ? options : undefined;
}

/** What package-release packages for `tag`, from its options: publish-release's dry run plans from the same. */
export function releaseRequestOf(options: Pick<PackageReleaseOptions, 'sourceRoot' | 'bundleRoot' | 'sources' | 'renames' | 'emptyDirectories' | 'composeFile' | 'mirrorManifest'>, workspace: WorkspaceProjects, tag: string): ReleaseRequest {
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
    // The manifest names each image by the registry the release is cut against, as nx release does.
    registry: registryFrom(process.env),
    env: process.env,
  };
}
