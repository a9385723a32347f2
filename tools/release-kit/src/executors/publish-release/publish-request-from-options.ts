import { readFile, realpath } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { checksumFileName, latestTarballName, manifestFileName, versionedTarballName } from '@changemaker/release-contract';
import {
  changelogSection,
  generatedNotes,
  publisherIdentity,
  readReleaseAssets,
  ReleaseInputError,
  type ManifestSummary,
  type PublishRequest,
} from '@changemaker/gitea';
import type { PublishReleaseOptions } from './schema';

/** Turns the executor's options and the files on disk into what the library publishes. */
export async function publishRequestFromOptions(options: PublishReleaseOptions, workspaceRoot: string): Promise<PublishRequest> {
  const inputDir = resolve(workspaceRoot, options.inputDir ?? 'dist/release');
  const manifest = await readManifest(inputDir);
  // `--tag 1.2` arrives as a number (Nx parses the command line so); the checks below explain it.
  const tag = options.tag !== undefined ? String(options.tag) : (manifest?.tag ?? (manifest?.version ? `v${manifest.version.replace(/^v/, '')}` : undefined));
  if (!tag) throw new ReleaseInputError(`No --tag given and no version in ${join(inputDir, manifestFileName)}: pass --tag vX.Y.Z.`);
  const version = tag.replace(/^v/, '');
  if (manifest?.version && manifest.version.replace(/^v/, '') !== version) {
    throw new ReleaseInputError(`--tag ${tag} does not match version ${manifest.version} in ${join(inputDir, manifestFileName)}: package this version first.`);
  }
  const assets = await readReleaseAssets(inputDir, [versionedTarballName(options.bundleRoot, tag), latestTarballName(options.bundleRoot)]);
  const checksums = await readFile(join(inputDir, checksumFileName), 'utf8');
  return {
    tag,
    title: tag,
    notes: await releaseNotes(options, workspaceRoot, tag, assets, manifest),
    target: manifest?.commit || undefined,
    assets,
    draft: options.draft ?? false,
    prerelease: options.prerelease ?? false,
    replace: options.replace ?? false,
    publisherId: publisherIdentity(hostname(), await realpath(inputDir), checksums),
  };
}

async function releaseNotes(
  options: PublishReleaseOptions,
  workspaceRoot: string,
  tag: string,
  assets: PublishRequest['assets'],
  manifest: ManifestSummary | undefined,
): Promise<string> {
  if (options.notesFile) {
    const path = isAbsolute(options.notesFile) ? options.notesFile : join(workspaceRoot, options.notesFile);
    return readFile(path, 'utf8').catch(() => {
      throw new ReleaseInputError(`--notes-file ${path} cannot be read: check the path.`);
    });
  }
  const changelog = await readFile(join(workspaceRoot, 'CHANGELOG.md'), 'utf8').catch(() => '');
  return changelogSection(changelog, tag) ?? generatedNotes(tag, assets, manifest);
}

async function readManifest(inputDir: string): Promise<ManifestSummary | undefined> {
  const path = join(inputDir, manifestFileName);
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as ManifestSummary;
  } catch {
    throw new ReleaseInputError(`${path} is not valid JSON: re-run package-release.`);
  }
}
