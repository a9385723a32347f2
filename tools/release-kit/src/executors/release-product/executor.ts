import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { changelogSection, defaultRetryPolicy, GiteaError, PublishError, ReleaseClient } from '@changemaker/gitea';
import { dockerCredentialResolver, dryRunRetryPolicy, mirrorLockFileOf, OciError, readMirrorLock, RegistryClient } from '@changemaker/oci';
import { BundleError } from '@changemaker/release-bundle';
import {
  giteaLocationFrom,
  giteaTokenFrom,
  imageResultPathOf,
  mirrorImagesTargetName,
  nxRunCommand,
  releaseTagOf,
  projectOfRepository,
  releasePublishTargetName,
  SettingError,
  type ImageResult,
  type ManifestImage,
  type WorkspaceImage,
} from '@changemaker/release-contract';
import { GiteaTokenMissingError, productReleaseOf, productReleaseStages, ReleaseFlowError, releaseRegistryOf, runStages, type ProductRelease, type StageOutcome } from '@changemaker/release-flow';
import { packagingOptionsOf, releaseRequestOf } from '../package-release/release-request';
import { workspaceProjectsOf } from '../../release/workspace-images';
import { workspaceChangelogPath, workspaceChangelogText } from '../../release/workspace-changelog';
import { isDryRun, releaseVersionOf, ReleaseVersionError } from '../../release/release-version';
import { retryLine, tokenMaskingPrinter } from '../../report/executor-output';
import { describeOutcome } from '../../report/stage-lines';
import type { ReleaseProductOptions } from './schema';
import { refusedForPluginOptions } from '../../plugins/plugin-options';

export default async function runExecutor(options: ReleaseProductOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  if (refusedForPluginOptions(context)) return { success: false };
  const token = giteaTokenFrom(process.env);
  const print = tokenMaskingPrinter(token, options.json);
  const dryRun = isDryRun(options, process.env);
  const registryClient = new RegistryClient({
    credentials: dockerCredentialResolver({ env: process.env }),
    userAgent: 'changemaker-release-kit release',
    ...(dryRun ? { retry: dryRunRetryPolicy } : {}),
  });
  try {
    if (!token && !dryRun) {
      print(new GiteaTokenMissingError().message, 'err');
      return { success: false };
    }
    const release = productReleaseOf(await requestOf(options, context, { token, dryRun, registryClient, print }));
    print(`${dryRun ? 'Dry run: plan to release' : 'Releasing'} ${release.tag} to ${release.gitea.giteaUrl} (${release.gitea.repo}), images in ${release.registry}`);
    const outcomes = await runStages(productReleaseStages(), release, { dryRun, onStage: (outcome, index, total) => print(describeOutcome(outcome, index, total)) });
    const images = await imageRows(context.root, release);
    for (const line of summaryOf(release, images)) print(line);
    if (options.json) print(JSON.stringify(reportOf(release, images, outcomes)), 'out');
    return { success: true };
  } catch (error) {
    if (isExplainable(error)) {
      print(`release failed: ${error.message}`, 'err');
      if (options.json) print(JSON.stringify({ error: { kind: error.name, message: error.message } }), 'out');
      return { success: false };
    }
    throw error;
  } finally {
    await registryClient.close();
  }
}

interface Resources {
  token?: string;
  dryRun: boolean;
  registryClient: RegistryClient;
  print: (line: string) => void;
}

async function requestOf(options: ReleaseProductOptions, context: ExecutorContext, resources: Resources) {
  const packaging = packagingOptionsOf(context.projectsConfigurations.projects[context.projectName ?? ''], options.packageTarget);
  if (!packaging) {
    throw new ReleaseVersionError(`${context.projectName} has no ${options.packageTarget} target with a file list (sources): add one, or point --package-target at it.`);
  }
  const product = context.projectName ?? '';
  const version = await releaseVersionOf(options.nxReleaseVersionData, context.root, options.versionFile);
  const gitea = giteaLocationFrom(process.env);
  // What package-release packages, from the same options: one reading of them for both.
  const { fileList, composeFile, mirrorManifest, workspaceImages } = releaseRequestOf(packaging, workspaceProjectsOf(context), product, releaseTagOf(version));
  const changelog = await workspaceChangelogText(workspaceChangelogPath(context.nxJsonConfiguration, context.root));
  const registry = releaseRegistryOf(options.registry, process.env);
  return {
    workspaceRoot: context.root,
    product,
    version,
    fileList,
    composeFile,
    mirrorManifest,
    workspaceImages,
    outputDir: resolve(context.root, packaging.outputDir ?? 'dist/release'),
    registry,
    registryClient: resources.registryClient,
    gitea: new ReleaseClient({
      giteaUrl: gitea.url,
      repo: gitea.repo,
      token: resources.token,
      retry: resources.dryRun ? dryRunRetryPolicy : defaultRetryPolicy,
      onRetry: (notice) => resources.print(retryLine(notice)),
    }),
    giteaToken: resources.token !== undefined,
    gitRemote: options.gitRemote,
    changelogNotes: changelogSection(changelog, releaseTagOf(version)),
    prerelease: options.prerelease,
    env: process.env,
    fixFor: (image: ManifestImage) => fixFor(image, { product, registry, fromOption: options.registry !== undefined }, workspaceImages, context),
    mirrorLock: await readMirrorLock(mirrorLockFileOf(join(context.root, mirrorManifest)), mirrorLockFileOf(mirrorManifest)),
    dryRun: resources.dryRun,
  };
}

/** A release cut against the registry option names it: the command then says where the image must be, whatever the environment's GITEA_REGISTRY. */
function fixFor(image: ManifestImage, registry: { product: string; registry: string; fromOption: boolean }, workspaceImages: readonly WorkspaceImage[], context: ExecutorContext): string {
  if (image.source === 'mirror') return `mirror it: ${nxRunCommand(registry.product, mirrorImagesTargetName, registry.fromOption ? `--registry=${registry.registry}` : '')}`;
  const imageProject = projectOfImage(image, registry.registry, workspaceImages);
  const project = imageProject ?? image.service;
  if (imageProject && isLeftOutOfThisRun(imageProject, context)) {
    return `its ${releasePublishTargetName} task was not part of this run (--projects, --groups and --exclude-task-dependencies leave the image tasks out): re-run npx nx release publish without them`;
  }
  return `push it: ${nxRunCommand(project, releasePublishTargetName)}, or re-run npx nx release publish`;
}

/**
 * Whether `project`'s image task was left out of the task graph this task runs in: Nx runs a
 * filtered `nx release publish` without the product task's dependencies. Unknown (no task graph,
 * as when the executor is called directly), it was not.
 */
function isLeftOutOfThisRun(project: string, context: ExecutorContext): boolean {
  const tasks = context.taskGraph ? Object.values(context.taskGraph.tasks) : undefined;
  return tasks !== undefined && !tasks.some((task) => task.target.project === project && task.target.target === releasePublishTargetName);
}

/** The workspace project whose image `<registry>/<repository>:<tag>` is, if any. */
function projectOfImage(image: ManifestImage, registry: string, workspaceImages: readonly WorkspaceImage[]): string | undefined {
  if (!image.reference.startsWith(`${registry}/`)) return undefined;
  const repository = image.reference.slice(registry.length + 1, image.reference.lastIndexOf(':'));
  return projectOfRepository(repository, workspaceImages);
}

function isExplainable(error: unknown): error is Error {
  return [ReleaseFlowError, BundleError, GiteaError, PublishError, OciError, ReleaseVersionError, SettingError].some((kind) => error instanceof kind);
}


interface ImageRow {
  service: string;
  reference: string;
  digest?: string;
  how: string;
}

/** How each image got into this release: from the image tasks' results when they ran for this commit. */
async function imageRows(root: string, release: ProductRelease): Promise<ImageRow[]> {
  const workspaceImages = release.workspaceImages;
  return Promise.all(
    (release.artifacts?.manifest.images ?? release.plan?.images ?? []).map(async (image) => {
      const digest = image.digest ?? release.imageCheck?.digests.get(image.reference);
      if (image.source === 'mirror') return { service: image.service, reference: image.reference, digest, how: 'mirrored' };
      const project = projectOfImage(image, release.registry, workspaceImages);
      const result = project ? await readImageResult(root, project) : undefined;
      const thisRun = result && result.commit === release.commit?.sha && result.references.includes(image.reference);
      const how = thisRun ? (result.built ? 'built' : 'tagged registry-side') : release.dryRun ? 'planned by its image task' : 'in the registry';
      return { service: image.service, reference: image.reference, digest, how };
    }),
  );
}

async function readImageResult(root: string, project: string): Promise<ImageResult | undefined> {
  const text = await readFile(join(root, imageResultPathOf(project)), 'utf8').catch(() => undefined);
  return text ? (JSON.parse(text) as ImageResult) : undefined;
}

function summaryOf(release: ProductRelease, images: readonly ImageRow[]): string[] {
  const workspace = images.filter((image) => !image.how.startsWith('mirrored'));
  const howWidth = Math.max(0, ...workspace.map((image) => image.how.length));
  const rows = workspace.map((image) => `  ${image.service.padEnd(12)} ${image.how.padEnd(howWidth)}  ${image.digest ?? '-'}`);
  const mirrored = images.length - workspace.length;
  const lines = [`${release.tag}: ${workspace.length} workspace images, ${mirrored} third-party images`, ...rows];
  for (const notice of release.notices) lines.push(`  note: ${notice}`);
  const assets = release.assets?.map((asset) => asset.name).join(', ');
  if (release.dryRun) lines.push(`Dry run: nothing was written, pushed, uploaded or published (would publish ${assets}).`);
  else if (release.alreadyPublished) lines.push(`${release.tag} was already published with these assets: ${release.existing?.html_url} (nothing to do)`);
  else lines.push(`Released ${release.tag}: ${release.release?.html_url} with ${assets}`);
  return lines;
}

function reportOf(release: ProductRelease, images: readonly ImageRow[], outcomes: readonly StageOutcome[]) {
  return {
    version: release.version,
    tag: release.tag,
    dryRun: release.dryRun,
    url: release.release?.html_url ?? release.existing?.html_url,
    alreadyPublished: release.alreadyPublished ?? false,
    images,
    assets: release.assets?.map(({ name, size, sha256 }) => ({ name, size, sha256 })) ?? [],
    notices: release.notices,
    stages: outcomes,
  };
}
