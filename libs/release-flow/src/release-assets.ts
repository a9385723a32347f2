import { join } from 'node:path';
import type { LocalAsset } from '@changemaker/gitea';
import { sha256Hex } from '@changemaker/oci';
import type { ReleaseArtifacts } from '@changemaker/release-bundle';

/** The release files as the assets a publish uploads, from where package-release writes them (`dir`). */
export function localAssetsOf(artifacts: ReleaseArtifacts, dir: string): LocalAsset[] {
  return artifacts.files.map(({ name, content }) => ({ name, path: join(dir, name), size: content.length, sha256: sha256Hex(content) }));
}
