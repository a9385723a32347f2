import { resolve } from 'node:path';
import { bundleNameSetting, envTemplateFileName, installScriptPath, installScriptSetting, versionFileName, type GiteaLocation, type ManifestImage, type WorkspaceImage } from '@changemaker/release-contract';
import { ComposeFileError, DuplicateBundlePathError, EntryPathTooLongError, InstallerNameMismatchError, UncommittedSourcesError, UnsafeBundlePathError } from './bundle-errors';
import { collectSources } from './collect-sources';
import { checkSourcesCommitted } from './committed-sources';
import { composeImages } from './compose-images';
import { readMirrorPins } from './mirror-pins';
import type { ReleaseFileList } from './release-file-list';
import { composeDefaultingTo, envTemplateWithDefaults, refuseUnusableDefaults } from './install-defaults';
import { pinComposeToRelease } from './release-images';
import { ReleaseTag } from './release-tag';
import { signingKeyFromEnv, type SigningKey } from './release-signing';
import { withParentDirectories } from './reproducible-tar';
import { refuseSecrets } from './secret-detection';
import { resolveReleaseCommit, type SourceDate } from './source-date';
import type { SourceFile } from './source-file';
import type { TarEntry } from './tar-entry';
import { fitsUstar } from './ustar-header';

export interface ReleaseRequest {
  workspaceRoot: string;
  tag: string;
  fileList: ReleaseFileList;
  /** Path inside the tarball of the compose file whose images are checked and pinned. */
  composeFile: string;
  /** Workspace-relative path of the third-party image pins. */
  mirrorManifest: string;
  /** The workspace's image projects and the repository each is pushed to (`changemaker-<project>` by default). */
  workspaceImages: readonly WorkspaceImage[];
  /**
   * The GITEA_REGISTRY the release is cut against: the manifest's and image-digests.txt's image
   * references, and the registry the shipped compose file and .env template default to.
   */
  registry?: string;
  /** The Gitea repository the release is published in: the shipped .env template's GITEA_URL and GITEA_REPO, which upgrade.sh asks. */
  gitea?: GiteaLocation;
  env: NodeJS.ProcessEnv;
  /**
   * A real release (package-release outside --dry-run) sets it: the tag must exist at HEAD, and
   * every source file must be committed there, unchanged, or nothing is planned. Unset (a dry run,
   * or tests that package a working tree on purpose), each of those is a line of the plan's notices.
   */
  requireCommitted?: boolean;
}

/** Everything a release will contain, checked, before a single byte is written. */
export interface ReleasePlan {
  tag: string;
  version: string;
  /** Tarball name stem, e.g. changemaker-lite */
  name: string;
  entries: TarEntry[];
  images: ManifestImage[];
  sourceDate: SourceDate;
  /** From RELEASE_SIGNING_KEY_FILE or RELEASE_SIGNING_KEY in the request's env; none: unsigned. */
  signingKey?: SigningKey;
  /** What a real release would refuse, reported instead (requireCommitted unset): one line each. planRelease always sets it. */
  notices?: string[];
}

/** Reads and checks the release's files; refuses (throws a BundleError) rather than ship anything doubtful. */
export async function planRelease(request: ReleaseRequest): Promise<ReleasePlan> {
  const { tag, version } = new ReleaseTag(request.tag);
  refuseUnusableDefaults(request);
  // git answers while the files are read and checked; its error, if any, comes after theirs.
  const dating = resolveReleaseCommit(request.workspaceRoot, tag, request.env, { requireTag: request.requireCommitted });
  dating.catch(() => undefined);
  const collected = await collectSources(request.workspaceRoot, request.fileList);
  collected.forEach(refuseSecrets);
  refuseNameInstallerCannotFind(collected, request.fileList.bundleRoot);
  const { sourceDate, notices } = await dating;
  // Outside any git checkout (allowed only with SOURCE_DATE_EPOCH) there is no commit to hold the files to.
  const committed = sourceDate.commit === null ? { sources: collected, problems: [] } : await checkSourcesCommitted(request.workspaceRoot, sourceDate.commit, request.fileList, collected);
  if (request.requireCommitted && committed.problems.length > 0) throw new UncommittedSourcesError(committed.problems);
  notices.push(...committed.problems.map((problem) => `refused outside a dry run: ${problem}`));
  const sources = committed.sources;
  const { compose, images } = await pinCompose(request, sources, tag);
  const shippedContent = (source: SourceFile): Buffer => {
    if (source === compose.source) return compose.content;
    if (source.bundlePath === envTemplateFileName) return Buffer.from(envTemplateWithDefaults(source.content.toString('utf8'), request));
    return source.content;
  };
  const bundleRoot = request.fileList.bundleRoot;
  const entries: TarEntry[] = [
    ...sources.map((source) => bundleFileEntry(bundleRoot, source.bundlePath, shippedContent(source), source.executable)),
    bundleFileEntry(bundleRoot, versionFileName, Buffer.from(`${tag}\n`), false),
    ...request.fileList.emptyDirectories.map((path): TarEntry => ({ type: 'directory', path: inBundle(bundleRoot, path), mode: 0o755 })),
  ];
  refuseDuplicatePaths(entries);
  refuseUnarchivablePaths(entries, sources, bundleRoot);
  const signingKey = await signingKeyFromEnv(request.env);
  return { tag, version, name: bundleRoot, entries, images, sourceDate, notices, ...(signingKey ? { signingKey } : {}) };
}

async function pinCompose(request: ReleaseRequest, sources: readonly SourceFile[], tag: string) {
  const source = sources.find((file) => file.bundlePath === request.composeFile);
  if (!source) throw new ComposeFileError(`${request.composeFile}: the release file list ships no such file; add it to sources (or renames)`);
  const mirrorPins = await readMirrorPins(resolve(request.workspaceRoot, request.mirrorManifest), request.mirrorManifest);
  const text = source.content.toString('utf8');
  const pinned = pinComposeToRelease(text, composeImages(source.workspacePath, text), tag, {
    composeFile: source.workspacePath,
    workspaceImages: request.workspaceImages,
    mirrorPins,
    mirrorManifest: request.mirrorManifest,
    registry: request.registry,
  });
  const shipped = request.registry ? composeDefaultingTo(request.registry, pinned.text) : pinned.text;
  return { compose: { source, content: Buffer.from(shipped) }, images: pinned.images };
}

export function bundleFileEntry(bundleRoot: string, path: string, content: Buffer, executable: boolean): TarEntry {
  return { type: 'file', path: inBundle(bundleRoot, path), mode: executable ? 0o755 : 0o644, content };
}

/** Every entry stays below the top directory: a `..` in a rename must not reach the installer's disk. */
function inBundle(bundleRoot: string, path: string): string {
  for (const candidate of [bundleRoot, path]) {
    if (candidate.split('/').some((part) => part === '' || part === '.' || part === '..' || part.includes('\\'))) {
      throw new UnsafeBundlePathError(candidate);
    }
  }
  return `${bundleRoot}/${path}`;
}

/**
 * Refused while planning, not when the tarball is written: a dry run would otherwise pass a
 * release the real run then refuses. The error names the workspace file the path comes from.
 */
function refuseUnarchivablePaths(entries: readonly TarEntry[], sources: readonly SourceFile[], bundleRoot: string): void {
  for (const entry of withParentDirectories(entries)) {
    if (fitsUstar(entry)) continue;
    const source = sources.find((file) => {
      const path = `${bundleRoot}/${file.bundlePath}`;
      return path === entry.path || path.startsWith(`${entry.path}/`);
    });
    throw new EntryPathTooLongError(entry.path, source?.workspacePath);
  }
}

/** The tarball ships install.sh and upgrade.sh, which find a release by their bundle_name: it must be the name it is packaged by. */
function refuseNameInstallerCannotFind(sources: readonly SourceFile[], bundleRoot: string): void {
  const installer = sources.find((source) => source.bundlePath === installScriptPath);
  const bundleName = installer && installScriptSetting(installer.content.toString('utf8'), bundleNameSetting);
  if (installer && bundleName !== undefined && bundleName !== bundleRoot) throw new InstallerNameMismatchError(installer.workspacePath, bundleName, bundleRoot);
}

function refuseDuplicatePaths(entries: readonly TarEntry[]): void {
  const seen = new Set<string>();
  for (const { path } of entries) {
    if (seen.has(path)) throw new DuplicateBundlePathError(path);
    seen.add(path);
  }
}
