import { sha256HexOfFile } from '@changemaker/oci';
import { access, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { checksumFileName, manifestFileName, signatureFileName } from '@changemaker/release-contract';
import { ReleaseInputError } from './publish-errors';

/** A file to upload, with what the server's copy must match. */
export interface LocalAsset {
  name: string;
  path: string;
  size: number;
  sha256: string;
}


/**
 * The assets of a packaged release: every file SHA256SUMS names (each checked against its line),
 * SHA256SUMS itself, and release-manifest.json and SHA256SUMS.sig when present. `requiredNames` must be among them.
 * `packageCommand` packages them, for the line that says none are there.
 */
export async function readReleaseAssets(inputDir: string, requiredNames: string[], packageCommand: string): Promise<LocalAsset[]> {
  const sumsPath = join(inputDir, checksumFileName);
  const sums = await readFile(sumsPath, 'utf8').catch(() => {
    throw new ReleaseInputError(`${sumsPath} not found: nothing is packaged there. Package first (${packageCommand}), pass --input-dir, or plan the whole release with npx nx release publish --dry-run.`);
  });
  const listed = parseChecksums(sums, sumsPath);
  const assets: LocalAsset[] = [];
  for (const [name, expected] of listed) {
    const asset = await describeFile(join(inputDir, name), sumsPath);
    if (asset.sha256 !== expected) {
      throw new ReleaseInputError(`${asset.path} does not match its line in ${sumsPath}: re-run package-release so they agree.`);
    }
    assets.push(asset);
  }
  assets.push(await describeFile(sumsPath, sumsPath));
  const manifestPath = join(inputDir, manifestFileName);
  if (!listed.has(manifestFileName) && (await exists(manifestPath))) assets.push(await describeFile(manifestPath, sumsPath));
  // The signature of SHA256SUMS, when the release was packaged with a signing key.
  const signaturePath = join(inputDir, signatureFileName);
  if (await exists(signaturePath)) assets.push(await describeFile(signaturePath, sumsPath));
  for (const name of requiredNames) {
    if (!assets.some((asset) => asset.name === name)) {
      throw new ReleaseInputError(`${join(inputDir, name)} is missing from the packaged release: was it packaged for this --tag?`);
    }
  }
  return assets;
}

/** `<sha256>  <name>` lines as sha256sum prints them (`*` marks binary mode). */
export function parseChecksums(text: string, source: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (!match) throw new ReleaseInputError(`${source}: "${line.trim()}" is not a sha256sum line (<sha256>  <file>).`);
    entries.set(basename(match[2]!), match[1]!);
  }
  if (entries.size === 0) throw new ReleaseInputError(`${source} lists no files: re-run package-release.`);
  return entries;
}


async function describeFile(path: string, sumsPath: string): Promise<LocalAsset> {
  const info = await stat(path).catch(() => {
    throw new ReleaseInputError(`${path} is listed in ${sumsPath} but does not exist: re-run package-release.`);
  });
  return { name: basename(path), path, size: info.size, sha256: await sha256HexOfFile(path) };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
