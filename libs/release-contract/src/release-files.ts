/**
 * The names of the files a release is made of. Packaging writes them, publishing uploads them, the
 * server scripts (docker/scripts/install.sh, upgrade.sh) download them by these names: change one
 * here and in those scripts together.
 */

/** The top directory inside the tarball and the stem of its name. */
export const defaultBundleRoot = 'changemaker-lite';

export const checksumFileName = 'SHA256SUMS';
export const manifestFileName = 'release-manifest.json';

/** Inside the tarball: the template config.sh writes an installation's .env from. */
export const envTemplateFileName = '.env.example';

/** Inside the tarball: the release tag, one line. Release installs are recognised by it. */
export const versionFileName = 'VERSION';

export function versionedTarballName(bundleRoot: string, tag: string): string {
  return `${bundleRoot}-${tag}.tar.gz`;
}

/** The same bytes as the versioned tarball, for links to releases/latest/download/. */
export function latestTarballName(bundleRoot: string): string {
  return `${bundleRoot}-latest.tar.gz`;
}

/** Every asset of one release, in upload order: the tarballs first, SHA256SUMS (which lists them) last. */
export function releaseAssetNames(bundleRoot: string, tag: string): string[] {
  return [versionedTarballName(bundleRoot, tag), latestTarballName(bundleRoot), manifestFileName, checksumFileName];
}

/**
 * Inside the tarball, when the release was cut against its registry: one line per compose service,
 * `<service> <reference> <digest>` separated by single spaces, in the compose file's order, so a
 * server can check that what it pulled is what the release was cut with (plain text: bash reads it).
 */
export const imageDigestsFileName = 'image-digests.txt';
