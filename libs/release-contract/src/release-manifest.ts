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
  tarball: ManifestTarball;
}

/**
 * How the tarball was made from the files. The tar is the same wherever this commit is packaged;
 * its gzip bytes are only where Node compresses with the same zlib: a Node built on the system's
 * zlib (Debian's or Alpine's nodejs package) deflates otherwise. So the tar is checked apart.
 */
export interface ManifestTarball {
  /** sha256 of the uncompressed tar: `gunzip -c <tarball> | sha256sum` anywhere. */
  tarSha256: string;
  /** The deflate that compressed it, e.g. `node zlib 1.3.1-e00f703, level 6, 1 MiB blocks`. */
  gzip: string;
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
