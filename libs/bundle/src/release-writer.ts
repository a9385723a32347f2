import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  allowedSignersFileName,
  checksumFileName,
  latestTarballName,
  manifestFileName,
  signatureFileName,
  trustedReleaseKeys,
  versionedTarballName,
  type ReleaseManifest,
} from '@changemaker/release-contract';
import { isProcessAlive, sha256Hex } from '@changemaker/oci';
import { ReleaseWriteError } from './bundle-errors';
import { manifestFiles, sha256sums } from './release-manifest';
import type { ReleasePlan } from './release-plan';
import { allowedSignerLine, signWithKey, type SigningKey } from './release-signing';
import type { TarEntry } from './tar-entry';
import { parallelGzipName } from './parallel-gzip';
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

export interface ReleaseArtifactOptions {
  /**
   * When given (else the plan's, from its env), the tarball trusts it (allowed_signers) and
   * SHA256SUMS.sig signs SHA256SUMS.
   */
  signingKey?: SigningKey;
}

/**
 * The release files, in memory: the versioned tarball, the `latest` copy, the manifest, SHA256SUMS,
 * and with a signing key SHA256SUMS.sig.
 */
export async function buildReleaseArtifacts(plan: ReleasePlan, options: ReleaseArtifactOptions = {}): Promise<ReleaseArtifacts> {
  const signingKey = options.signingKey ?? plan.signingKey;
  const entries = signingKey ? await trustingSigningKey(plan, signingKey) : plan.entries;
  const packed = await reproducibleTarGz(entries, plan.sourceDate.mtimeSeconds);
  const tarball = packed.gzip;
  const manifest: ReleaseManifest = {
    name: plan.name,
    version: plan.version,
    tag: plan.tag,
    commit: plan.sourceDate.commit,
    sourceDateEpoch: plan.sourceDate.mtimeSeconds,
    files: manifestFiles(entries),
    images: plan.images,
    tarball: { tarSha256: sha256Hex(packed.tar), gzip: parallelGzipName },
  };
  const manifestJson = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  const tarballSha256 = sha256Hex(tarball);
  const checked = [
    { name: versionedTarballName(plan.name, plan.tag), content: tarball, sha256: tarballSha256 },
    { name: latestTarballName(plan.name), content: tarball, sha256: tarballSha256 },
    { name: manifestFileName, content: manifestJson, sha256: sha256Hex(manifestJson) },
  ];
  const sums = Buffer.from(sha256sums(checked));
  const signature = signingKey ? [{ name: signatureFileName, content: await signWithKey(signingKey, sums) }] : [];
  return { tarball, manifest, files: [...checked, { name: checksumFileName, content: sums }, ...signature] };
}

/**
 * The plan's entries with the signing key in the tarball's allowed_signers: added to the keys the
 * sources ship there (a next key, during a rotation), so an installation trusts what signed it.
 */
async function trustingSigningKey(plan: ReleasePlan, key: SigningKey): Promise<TarEntry[]> {
  const path = `${plan.name}/${allowedSignersFileName}`;
  const line = await allowedSignerLine(key);
  const shipped = plan.entries.find((entry): entry is Extract<TarEntry, { type: 'file' }> => entry.type === 'file' && entry.path === path);
  const shippedText = shipped?.content.toString('utf8') ?? '';
  const lines = shippedText.split('\n').filter((text) => text.trim() !== '');
  const [signingKey] = trustedReleaseKeys(line);
  const trusted = trustedReleaseKeys(shippedText).has(signingKey!) ? lines : [...lines, line];
  const entry: TarEntry = { type: 'file', path, mode: 0o644, content: Buffer.from(`${trusted.join('\n')}\n`) };
  return shipped ? plan.entries.map((existing) => (existing === shipped ? entry : existing)) : [...plan.entries, entry];
}

/**
 * Writes every file under a temporary name first and renames only when all are written, so a
 * failure never leaves a tarball without its checksums (or checksums of another tarball).
 * SHA256SUMS is renamed last: a write stopped between two renames (Ctrl-C, a cancelled CI job) leaves
 * new files next to the old SHA256SUMS, which they do not match, so nothing trusts the mix.
 */
export async function writeReleaseArtifacts(artifacts: ReleaseArtifacts, outputDir: string): Promise<WrittenFile[]> {
  try {
    return await writeAll(artifacts, outputDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    throw new ReleaseWriteError(outputDir, `${code}: ${systemMessageOf(error as Error)}`);
  }
}

/** Node's message without its `CODE: ` prefix and the path it appends, which the error names already. */
function systemMessageOf(error: Error): string {
  return error.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
}

async function writeAll(artifacts: ReleaseArtifacts, outputDir: string): Promise<WrittenFile[]> {
  await mkdir(outputDir, { recursive: true });
  await removeDeadWritersFiles(outputDir);
  const suffix = `${partialSuffix}${process.pid}`;
  const files = [...artifacts.files]
    .sort((a, b) => Number(a.name === checksumFileName) - Number(b.name === checksumFileName))
    .map(({ name, content }) => ({ path: join(outputDir, name), content }));
  try {
    await Promise.all(files.map((file) => writeFile(file.path + suffix, file.content)));
    // An earlier signed packaging's signature signs other checksums, and publish-release uploads the
    // signature it finds beside them: an unsigned release removes it before its files land.
    if (!files.some((file) => file.path === join(outputDir, signatureFileName))) await rm(join(outputDir, signatureFileName), { force: true });
    for (const file of files) await rename(file.path + suffix, file.path);
  } finally {
    await Promise.all(files.map((file) => rm(file.path + suffix, { force: true })));
  }
  return artifacts.files.map(({ name, content }) => ({ path: join(outputDir, name), size: content.length }));
}

const partialSuffix = '.partial-';

/**
 * A write killed by a signal never reaches its `finally`: its temporary files stay. They are
 * removed by the next write once the process that wrote them is gone (a live one may still be writing).
 */
async function removeDeadWritersFiles(outputDir: string): Promise<void> {
  const names = await readdir(outputDir);
  for (const name of names) {
    const pid = Number(/\.partial-(\d+)$/.exec(name)?.[1]);
    if (pid && !isProcessAlive(pid)) await rm(join(outputDir, name), { force: true });
  }
}
