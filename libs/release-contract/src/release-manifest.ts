/** release-manifest.json: what a release holds, written by packaging, read by publishing and operators. */
export interface ReleaseManifest {
  name: string;
  version: string;
  tag: string;
  commit: string | null;
  sourceDateEpoch: number;
  files: ManifestFile[];
  /** One per compose service, in the compose file's order. */
  images: ManifestImage[];
}

export interface ManifestFile {
  path: string;
  size: number;
  mode: string;
  sha256: string;
}

export type ImageSource = 'workspace' | 'mirror';

/** An image a release install pulls. */
export interface ManifestImage {
  service: string;
  /** The reference as the release checked it, e.g. registry.example/admin/changemaker-api:v1.2.3 */
  reference: string;
  source: ImageSource;
  /** The manifest digest the registry held at `reference` when the release was cut; absent when packaged without a registry check. */
  digest?: string;
}
