import { readFile, realpath } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { checksumFileName, latestTarballName, manifestFileName, nxRunCommand, packageReleaseTargetName, versionedTarballName } from '@changemaker/release-contract';
import {
  changelogSection,
  generatedNotes,
  publisherIdentity,
  readReleaseAssets,
  ReleaseInputError,
  type ManifestSummary,
  type PublishRequest,
} from '@changemaker/gitea';
import type { ReleaseArtifacts } from '@changemaker/release-bundle';
import { localAssetsOf } from '@changemaker/release-flow';
import { workspaceChangelogText } from '../../release/workspace-changelog';
import type { PublishReleaseOptions } from './schema';

/**
 * Turns the executor's options and the files on disk into what the library publishes, for `product`, the project it runs on.
 * `changelogFile`: the workspace changelog, whose section for the tag is the notes unless --notes-file is given.
 */
export async function publishRequestFromOptions(options: PublishReleaseOptions, workspaceRoot: string, product: string, changelogFile: string | undefined): Promise<PublishRequest> {
  const inputDir = resolve(workspaceRoot, options.inputDir ?? 'dist/release');
  const manifest = await readManifest(inputDir);
  // `--tag 1.2` arrives as a number (Nx parses the command line so); the checks below explain it.
  const tag = options.tag !== undefined ? String(options.tag) : (manifest?.tag ?? (manifest?.version ? `v${manifest.version.replace(/^v/, '')}` : undefined));
  if (!tag) throw new ReleaseInputError(`No --tag given and no version in ${join(inputDir, manifestFileName)}: pass --tag vX.Y.Z.`);
  const version = tag.replace(/^v/, '');
  if (manifest?.version && manifest.version.replace(/^v/, '') !== version) {
    throw new ReleaseInputError(`--tag ${tag} does not match version ${manifest.version} in ${join(inputDir, manifestFileName)}: package this version first.`);
  }
  const assets = await readReleaseAssets(inputDir, [versionedTarballName(options.bundleRoot, tag), latestTarballName(options.bundleRoot)], nxRunCommand(product, packageReleaseTargetName, `--tag ${tag}`));
  const checksums = await readFile(join(inputDir, checksumFileName), 'utf8');
  return {
    tag,
    title: tag,
    notes: await releaseNotes(options, { workspaceRoot, changelogFile }, tag, assets, manifest),
    target: manifest?.commit || undefined,
    assets,
    draft: options.draft ?? false,
    prerelease: options.prerelease ?? false,
    replace: options.replace ?? false,
    publisherId: publisherIdentity(hostname(), await realpath(inputDir), checksums),
  };
}

/**
 * A dry run's request: the release files as package-release would write them now for the tag,
 * built in memory by `packageFor` (package-release's own dry run writes nothing), so that the plan
 * works on a fresh clone and never uses files in the input directory left by another commit or
 * tag. `notice` says when the input directory holds other files than these.
 */
export async function plannedPublishRequest(
  options: PublishReleaseOptions,
  workspaceRoot: string,
  changelogFile: string | undefined,
  packageFor: (tag: string) => Promise<ReleaseArtifacts>,
): Promise<{ request: PublishRequest; notice?: string }> {
  const inputDir = resolve(workspaceRoot, options.inputDir ?? 'dist/release');
  const onDisk = await readManifest(inputDir).catch(() => undefined);
  const tag = options.tag !== undefined ? String(options.tag) : onDisk?.tag;
  if (!tag) throw new ReleaseInputError(`No --tag given and nothing packaged in ${inputDir}: pass --tag vX.Y.Z.`);
  const artifacts = await packageFor(tag);
  // Where package-release would write them: a real run uploads them from there.
  const assets = localAssetsOf(artifacts, inputDir);
  const checksums = artifacts.files.find((file) => file.name === checksumFileName)?.content.toString('utf8') ?? '';
  const packaged = await readFile(join(inputDir, checksumFileName), 'utf8').catch(() => undefined);
  const notice =
    packaged !== undefined && packaged !== checksums
      ? `${inputDir} holds other release files (${onDisk?.tag ?? 'no release-manifest.json'}${onDisk?.commit ? ` from commit ${onDisk.commit.slice(0, 12)}` : ''}) than package-release would write now for ${tag}${artifacts.manifest.commit ? ` at ${artifacts.manifest.commit.slice(0, 12)}` : ''}: planned with the files it would write, which a real run packages first`
      : undefined;
  const request: PublishRequest = {
    tag,
    title: tag,
    notes: await releaseNotes(options, { workspaceRoot, changelogFile }, tag, assets, artifacts.manifest),
    target: artifacts.manifest.commit || undefined,
    assets,
    draft: options.draft ?? false,
    prerelease: options.prerelease ?? false,
    replace: options.replace ?? false,
    publisherId: publisherIdentity(hostname(), await realpath(inputDir).catch(() => inputDir), checksums),
  };
  return { request, ...(notice ? { notice } : {}) };
}

async function releaseNotes(
  options: PublishReleaseOptions,
  { workspaceRoot, changelogFile }: { workspaceRoot: string; changelogFile: string | undefined },
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
  const changelog = await workspaceChangelogText(changelogFile);
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
