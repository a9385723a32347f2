import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checksumFileName, latestTarballName, manifestFileName, versionedTarballName, type ReleaseManifest } from '@changemaker/release-contract';
import { manifestFiles, sha256, sha256sums } from './release-manifest';
import type { ReleasePlan } from './release-plan';
import { reproducibleTarGz } from './reproducible-tar';

export interface WrittenFile {
  path: string;
  size: number;
}

export interface ReleaseArtifacts {
  tarball: Buffer;
  manifest: ReleaseManifest;
  /** File name -> content, in the order they are listed. */
  files: ReadonlyArray<{ name: string; content: Buffer }>;
}

/** The four release files, in memory: the versioned tarball, the `latest` copy, the manifest, SHA256SUMS. */
export async function buildReleaseArtifacts(plan: ReleasePlan): Promise<ReleaseArtifacts> {
  const compressing = reproducibleTarGz(plan.entries, plan.sourceDate.mtimeSeconds);
  const manifest: ReleaseManifest = {
    name: plan.name,
    version: plan.version,
    tag: plan.tag,
    commit: plan.sourceDate.commit,
    sourceDateEpoch: plan.sourceDate.mtimeSeconds,
    files: manifestFiles(plan.entries),
    images: plan.images,
  };
  const tarball = await compressing;
  const manifestJson = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  const tarballSha256 = sha256(tarball);
  const checked = [
    { name: versionedTarballName(plan.name, plan.tag), content: tarball, sha256: tarballSha256 },
    { name: latestTarballName(plan.name), content: tarball, sha256: tarballSha256 },
    { name: manifestFileName, content: manifestJson, sha256: sha256(manifestJson) },
  ];
  return { tarball, manifest, files: [...checked, { name: checksumFileName, content: Buffer.from(sha256sums(checked)) }] };
}

/**
 * Writes every file under a temporary name first and renames only when all are written, so a
 * failure never leaves a tarball without its checksums (or checksums of another tarball).
 */
export async function writeReleaseArtifacts(artifacts: ReleaseArtifacts, outputDir: string): Promise<WrittenFile[]> {
  await mkdir(outputDir, { recursive: true });
  const suffix = `.partial-${process.pid}`;
  const files = artifacts.files.map(({ name, content }) => ({ path: join(outputDir, name), content }));
  try {
    await Promise.all(files.map((file) => writeFile(file.path + suffix, file.content)));
    for (const file of files) await rename(file.path + suffix, file.path);
  } finally {
    await Promise.all(files.map((file) => rm(file.path + suffix, { force: true })));
  }
  return files.map((file) => ({ path: file.path, size: file.content.length }));
}
