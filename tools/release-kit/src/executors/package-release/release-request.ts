import type { ExecutorContext } from '@nx/devkit';
import type { ReleaseRequest } from '@changemaker/release-bundle';
import { registryFrom } from '@changemaker/release-contract';
import { workspaceImagesOf } from '../../release/workspace-images';
import type { PackageReleaseOptions } from './schema';

/** What package-release packages for `tag`, from its options: publish-release's dry run plans from the same. */
export function releaseRequestOf(options: Pick<PackageReleaseOptions, 'sourceRoot' | 'bundleRoot' | 'sources' | 'renames' | 'emptyDirectories' | 'composeFile' | 'mirrorManifest'>, context: ExecutorContext, tag: string): ReleaseRequest {
  return {
    workspaceRoot: context.root,
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
    workspaceImages: workspaceImagesOf(context),
    // The manifest names each image by the registry the release is cut against, as nx release does.
    registry: registryFrom(process.env),
    env: process.env,
  };
}
