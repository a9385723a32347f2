import type { Release, ReleaseClient } from '@changemaker/gitea';
import type { ReleaseArtifacts } from '@changemaker/release-bundle';
import { checksumFileName, manifestFileName, type ManifestTarball, type ReleaseManifest } from '@changemaker/release-contract';

/**
 * Why our own release, already public (Gitea published the draft when its tag arrived), must not be
 * finished from here, or undefined. Its assets were complete and verified before the push, so
 * finishing it only sets its notes, unless the bytes packaged here differ: then the resumption would
 * delete and upload its assets again in public, where servers download them. They differ when the
 * release is finished on another machine whose Node compresses with another zlib (the same tar,
 * other gzip bytes), or with another toolchain. SHA256SUMS covers every other asset, so it alone is
 * compared; the manifests then say which of the two it is.
 */
export async function publicReleaseBytesProblem(gitea: ReleaseClient, existing: Release, artifacts: ReleaseArtifacts): Promise<string | undefined> {
  const publishedSums = existing.assets.find((asset) => asset.name === checksumFileName);
  const packagedSums = artifacts.files.find((file) => file.name === checksumFileName)?.content;
  if (!publishedSums || !packagedSums || (await gitea.downloadAsset(publishedSums)).equals(packagedSums)) return undefined;
  const published = await publishedTarball(gitea, existing);
  const here = artifacts.manifest.tarball;
  const said = (why: string, where: string) =>
    `${existing.tag_name} is public (Gitea published it when its tag arrived) and ${why}: finishing it here would replace its assets in public, so nothing was changed; ` +
    `finish it ${where}, or leave it: its assets are complete, only its notes are unfinished`;
  if (published?.tarSha256 === here.tarSha256) {
    return said(
      `its files are the ones packaged here, but its gzip bytes came from ${published.gzip}, and this Node compresses with ${here.gzip}`,
      `with npx nx release publish where Node has ${published.gzip.split(',')[0]} (Node's official builds bundle their zlib)`,
    );
  }
  return said(`its files are not the ones packaged here (tar sha256 ${published?.tarSha256.slice(0, 12) ?? 'not recorded'} there, ${here.tarSha256.slice(0, 12)} here)`, 'from the checkout and toolchain that packaged it');
}

/** What the published release-manifest.json records of its tarball; undefined for a release packaged before it did. */
async function publishedTarball(gitea: ReleaseClient, existing: Release): Promise<ManifestTarball | undefined> {
  const asset = existing.assets.find((candidate) => candidate.name === manifestFileName);
  if (!asset) return undefined;
  try {
    return (JSON.parse((await gitea.downloadAsset(asset)).toString('utf8')) as Partial<ReleaseManifest>).tarball;
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
