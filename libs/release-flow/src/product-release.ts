import {
  buildReleaseArtifacts,
  planRelease,
  withImageDigests,
  writeReleaseArtifacts,
  type ReleaseArtifacts,
  type ReleaseFileList,
  type ReleasePlan,
} from '@changemaker/release-bundle';
import {
  finalizeStep,
  findReleaseForPlan,
  generatedNotes,
  isStampedBy,
  planPublish,
  releasesPath,
  type LocalAsset,
  type PublishPlan,
  type PublishRequest,
  type Release,
  type ReleaseClient,
  type StepContext,
} from '@changemaker/gitea';
import type { MirrorLock, RegistryClient } from '@changemaker/oci';
import { allowedSignersFileName, installScriptPath, releasePublishTargetName, releaseTagOf, type ManifestImage, type WorkspaceImage } from '@changemaker/release-contract';
import { checkReleaseImages, imagesDriftedFromLock, type FixFor, type ImageCheck } from './image-check';
import { hasRemote, missingTagProblem, pushRelease, readReleaseCommit, releaseRefs, type ReleaseCommit } from './git-remote';
import { ForeignRemoteError, PublicReleaseDiffersError, RegistryCheckFailedError, ReleaseImagesMissingError, ReleasePublishedOtherwiseError, ReleaseSigningRefusedError, ReleaseTagError } from './release-flow-errors';
import { publicReleaseBytesProblem } from './public-release-bytes';
import { remoteRepositoryProblem } from './remote-repository';
import { unsignedReleaseProblem, untrustedSigningKeyProblem, type TrustLists } from './signing-trust';
import { isPrereleaseVersion } from './prerelease-version';
import { localAssetsOf } from './release-assets';
import { releasePublisherId } from './release-claim';
import type { ReleaseStage } from './release-stage';

/** Everything the product's release needs, resolved from options, env and files beforehand. */
export interface ProductReleaseRequest {
  workspaceRoot: string;
  /** The released project's name: the commands the release's lines advise run on it. */
  product: string;
  version: string;
  fileList: ReleaseFileList;
  composeFile: string;
  mirrorManifest: string;
  /** The workspace's image projects and the repository each is pushed to. */
  workspaceImages: readonly WorkspaceImage[];
  /** Absolute: where the release files are written. */
  outputDir: string;
  /** GITEA_REGISTRY: where the images are checked. */
  registry: string;
  registryClient: RegistryClient;
  gitea: ReleaseClient;
  /** Whether a token was given: without one a dry run cannot see drafts. */
  giteaToken: boolean;
  gitRemote: string;
  /** This version's CHANGELOG.md section; undefined when the changelog has none yet. */
  changelogNotes?: string;
  /** Mark the release a pre-release; a pre-release version (2.0.0-rc.1) is one whatever this says. */
  prerelease: boolean;
  env: NodeJS.ProcessEnv;
  fixFor: FixFor;
  /** What the mirror recorded per third-party pin (docker/mirror-images.lock.json); empty when none. */
  mirrorLock: MirrorLock;
  dryRun: boolean;
}

/** The release as its stages fill it in. */
export interface ProductRelease extends ProductReleaseRequest {
  tag: string;
  commit?: ReleaseCommit;
  plan?: ReleasePlan;
  imageCheck?: ImageCheck;
  artifacts?: ReleaseArtifacts;
  assets?: LocalAsset[];
  publishRequest?: PublishRequest;
  existing?: Release;
  publishPlan?: PublishPlan;
  /** Why a dry run did not ask Gitea for the tag's release, when it could not. */
  giteaNotAsked?: string;
  /** Set when the tag's release is already public with exactly these assets: nothing is left to do. */
  alreadyPublished?: boolean;
  release?: Release;
  /** What a dry run could not check, and what it assumed instead. */
  notices: string[];
}

export function productReleaseOf(request: ProductReleaseRequest): ProductRelease {
  return { ...request, prerelease: request.prerelease || isPrereleaseVersion(request.version), tag: releaseTagOf(request.version), notices: [] };
}

/** The release, in order: nothing public before every image, file and asset is checked. */
export function productReleaseStages(): Array<ReleaseStage<ProductRelease>> {
  return [
    readCommitStage,
    planPackageStage,
    signingStage,
    checkImagesStage,
    buildArtifactsStage,
    writeArtifactsStage,
    findReleaseStage,
    uploadDraftStage,
    pushGitStage,
    publishStage,
  ];
}

const readCommitStage: ReleaseStage<ProductRelease> = {
  name: 'commit',
  writes: false,
  async run(release) {
    release.commit = await readReleaseCommit(release.workspaceRoot, release.tag);
    const elsewhere = await remoteRepositoryProblem(release.workspaceRoot, release.gitRemote, { url: release.gitea.giteaUrl, repo: release.gitea.repo });
    if (elsewhere) throw new ForeignRemoteError(elsewhere);
    if (release.commit.tagged) return;
    if (!release.dryRun) {
      throw new ReleaseTagError(await missingTagProblem(release.workspaceRoot, release.tag));
    }
    release.notices.push(`${release.tag} does not exist yet: nx release creates it at the release commit`);
  },
  describe: ({ commit, tag }) => [`${tag} from ${commit?.sha.slice(0, 12)}${commit?.branch ? ` on ${commit.branch}` : ' (detached HEAD)'}${commit?.tagged ? '' : `, ${tag} not tagged yet`}`],
};

const planPackageStage: ReleaseStage<ProductRelease> = {
  name: 'package-plan',
  writes: false,
  async run(release) {
    release.plan = await planRelease({
      workspaceRoot: release.workspaceRoot,
      tag: release.tag,
      fileList: release.fileList,
      composeFile: release.composeFile,
      mirrorManifest: release.mirrorManifest,
      workspaceImages: release.workspaceImages,
      registry: release.registry,
      gitea: { url: release.gitea.giteaUrl, repo: release.gitea.repo },
      env: release.env,
      // The release ships its commit: a real run refuses uncommitted files; a dry run notes them.
      requireCommitted: !release.dryRun,
    });
    if (release.dryRun) release.notices.push(...(release.plan.notices ?? []));
  },
  describe: ({ plan }) => {
    const files = plan?.entries.filter((entry) => entry.type === 'file') ?? [];
    const bytes = files.reduce((sum, entry) => sum + (entry.type === 'file' ? entry.content.length : 0), 0);
    return [
      `${files.length} files (${bytes} bytes before compression) and ${plan?.images.length} images checked for the tarball: no secrets, no symlinks, every image pinned`,
      ...contentsByTopLevelEntry(plan),
    ];
  },
};

/** The tarball's contents as its top-level entries: a file with its size, a directory with its file count and size. */
function contentsByTopLevelEntry(plan: ReleasePlan | undefined): string[] {
  const groups = new Map<string, { files: number; bytes: number; directory: boolean }>();
  for (const entry of plan?.entries ?? []) {
    const [top = '', ...rest] = entry.path.split('/').slice(1);
    const group = groups.get(top) ?? { files: 0, bytes: 0, directory: rest.length > 0 || entry.type === 'directory' };
    if (entry.type === 'file') {
      group.files += 1;
      group.bytes += entry.content.length;
    }
    groups.set(top, group);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, group]) => (group.directory ? `  ${name}/: ${group.files} files, ${group.bytes} bytes` : `  ${name}: ${group.bytes} bytes`));
}

/** A release no server would install is refused before anything is pushed: unsigned, or signed by a key the shipped lists do not trust. */
const signingStage: ReleaseStage<ProductRelease> = {
  name: 'signing',
  writes: false,
  async run(release) {
    const plan = requireValue(release.plan, 'package-plan');
    if (!plan.signingKey) {
      if (!release.dryRun) throw new ReleaseSigningRefusedError(unsignedReleaseProblem);
      release.notices.push(`a real run would stop here: ${unsignedReleaseProblem}`);
      return;
    }
    const untrusted = await untrustedSigningKeyProblem(plan.signingKey, trustListsShippedBy(plan), release.tag);
    if (untrusted) throw new ReleaseSigningRefusedError(untrusted);
  },
  describe: ({ plan }) => [
    plan?.signingKey
      ? `SHA256SUMS signed with the key from ${plan.signingKey.origin}, which the release's ${allowedSignersFileName} and its ${installScriptPath} trust`
      : 'no signing key: the release would be unsigned',
  ],
};

function trustListsShippedBy(plan: ReleasePlan): TrustLists {
  const shipped = (file: string) => {
    const entry = plan.entries.find((candidate) => candidate.path === `${plan.name}/${file}`);
    return entry?.type === 'file' ? entry.content.toString('utf8') : undefined;
  };
  return {
    allowedSigners: { name: `the release's ${allowedSignersFileName}`, text: shipped(allowedSignersFileName) },
    installScript: { name: `the release's ${installScriptPath}`, text: shipped(installScriptPath) },
  };
}

const checkImagesStage: ReleaseStage<ProductRelease> = {
  name: 'images',
  writes: false,
  async run(release) {
    const images = release.plan?.images ?? [];
    const check = await checkReleaseImages(release.registryClient, images, release.fixFor);
    if (release.dryRun) leaveWorkspaceImagesToTheirTasks(release, images, check);
    check.missing.push(...imagesDriftedFromLock(images, check, release.mirrorLock, release.registry, release.product));
    release.imageCheck = check;
    if (check.unreachable) {
      if (!release.dryRun) throw new RegistryCheckFailedError(release.registry, check.unreachable);
      release.notices.push(`images not checked: ${check.unreachable}`);
    } else if (check.missing.length > 0) {
      const error = new ReleaseImagesMissingError(check.missing);
      if (!release.dryRun) throw error;
      release.notices.push(`a real run would stop here: ${error.message}`);
    }
  },
  describe: (release) => [
    ...(release.imageCheck?.unreachable ? [`registry not reached, so no image was checked: ${release.imageCheck.unreachable}`] : []),
    ...(release.plan?.images ?? []).map((image) => describeCheckedImage(release, image)),
  ],
};

/**
 * A dry run walks ahead of the image tasks, which push this version's workspace images (each one's
 * plan says build or tag): one the registry does not hold yet is not missing, its task pushes it
 * first. Once the release tag is at HEAD (a release being finished, or checked again once
 * published), one it holds was pushed by those tasks, and its digest is recorded as a real run
 * records it, so the dry run packages what that run packages. Before the tag, one it holds can only
 * be left by a release of that version that was abandoned: not this commit's, so not recorded.
 */
function leaveWorkspaceImagesToTheirTasks(release: ProductRelease, images: readonly ManifestImage[], check: ImageCheck): void {
  const pushedByTheirTasks = new Set(images.filter((image) => image.source === 'workspace').map((image) => image.reference));
  check.missing = check.missing.filter((image) => !pushedByTheirTasks.has(image.reference));
  if (!release.commit?.tagged) for (const reference of pushedByTheirTasks) check.digests.delete(reference);
}

function describeCheckedImage(release: ProductRelease, image: ManifestImage): string {
  const check = release.imageCheck;
  const digest = check?.digests.get(image.reference);
  const missing = check?.missing.find((entry) => entry.reference === image.reference);
  if (digest && !missing) return `${image.service}: ${image.reference} ${digest}`;
  if (missing) return `${image.service}: ${image.reference} REFUSED (${missing.fix})`;
  if (image.source === 'workspace' && release.dryRun) return `${image.service}: ${image.reference} (a real run pushes it first: ${image.service}:${releasePublishTargetName})`;
  return `${image.service}: ${image.reference} not checked`;
}

const buildArtifactsStage: ReleaseStage<ProductRelease> = {
  name: 'package',
  writes: false,
  async run(release) {
    const plan = requireValue(release.plan, 'package-plan');
    const digests = release.imageCheck?.digests ?? new Map<string, string>();
    const allKnown = plan.images.every((image) => digests.has(image.reference));
    if (!allKnown) release.notices.push('image digests not recorded: a real run records every image digest in release-manifest.json and image-digests.txt');
    release.artifacts = await buildReleaseArtifacts(allKnown ? withImageDigests(plan, digests) : plan);
    release.assets = localAssetsOf(release.artifacts, release.outputDir);
    release.publishRequest = publishRequestOf(release);
  },
  describe: ({ artifacts, assets }) => [
    `${artifacts?.manifest.files.length} files, ${artifacts?.manifest.images.length} images in the manifest`,
    ...(assets ?? []).map((asset) => `${asset.name}: ${asset.size} bytes, sha256 ${asset.sha256}`),
  ],
};

const writeArtifactsStage: ReleaseStage<ProductRelease> = {
  name: 'write',
  writes: true,
  describe: ({ outputDir, assets }) => [`write ${assets?.map((asset) => asset.name).join(', ')} to ${outputDir}`],
  async run(release) {
    await writeReleaseArtifacts(requireValue(release.artifacts, 'package'), release.outputDir);
  },
};

const findReleaseStage: ReleaseStage<ProductRelease> = {
  name: 'gitea-lookup',
  writes: false,
  async run(release) {
    const request = requireValue(release.publishRequest, 'package');
    const { existing, assumed } = await findReleaseForPlan(release.gitea, release.tag, release.dryRun);
    release.existing = existing;
    release.giteaNotAsked = assumed;
    if (assumed) release.notices.push(assumed);
    if (!release.giteaToken && release.dryRun) release.notices.push('no GITEA_REGISTRY_API_TOKEN: drafts are invisible without one, so a draft left by an earlier run would be resumed, not created');
    if (existing && !existing.draft && !isStampedBy(existing.body, request.publisherId)) {
      if (!hasTheseAssets(existing, request.assets)) throw new ReleasePublishedOtherwiseError(release.tag, existing.html_url, release.product);
      release.alreadyPublished = true;
      return;
    }
    const differs = existing && !existing.draft ? await publicReleaseBytesProblem(release.gitea, existing, requireValue(release.artifacts, 'package')) : undefined;
    if (differs) throw new PublicReleaseDiffersError(differs);
    // Still stamped yet public: Gitea published our draft as it stood when the tag was pushed. It is
    // finished in public, never made a draft again.
    release.publishPlan = planPublish(release.gitea.repo, existing && !existing.draft ? { ...request, draft: false } : request, existing);
  },
  describe: (release) => [describeFoundRelease(release)],
};

function describeFoundRelease({ existing, alreadyPublished, tag, giteaNotAsked }: ProductRelease): string {
  if (giteaNotAsked) return giteaNotAsked;
  if (alreadyPublished) return `${tag} is already published with exactly these assets: ${existing?.html_url}`;
  if (existing?.draft) return `our own draft for ${tag} (claimed by this release commit's image tasks, or left by an earlier run): ${existing.html_url}`;
  if (existing) return `our own release for ${tag}, published by the push of its tag before an earlier run finished it: ${existing.html_url}`;
  return `no release for ${tag} yet`;
}

function hasTheseAssets(release: Release, assets: readonly LocalAsset[]): boolean {
  return assets.every((asset) => release.assets.some((remote) => remote.name === asset.name && remote.size === asset.size));
}

/** Once the tag's release is public with these assets, every later stage has nothing left to do. */
function skipWhenAlreadyPublished({ alreadyPublished }: ProductRelease): string | undefined {
  return alreadyPublished ? 'already published' : undefined;
}

const uploadDraftStage: ReleaseStage<ProductRelease> = {
  name: 'gitea-draft',
  writes: true,
  skipReason: skipWhenAlreadyPublished,
  describe: ({ publishPlan }) => (publishPlan?.steps ?? []).map((step) => `${step.call ? `${step.call}: ` : ''}${step.summary}`),
  async run(release) {
    const context: StepContext = { client: release.gitea, request: requireValue(release.publishRequest, 'package') };
    for (const step of requireValue(release.publishPlan, 'gitea-lookup').steps) await step.run(context);
    release.release = context.release;
  },
};

const pushGitStage: ReleaseStage<ProductRelease> = {
  name: 'git-push',
  writes: true,
  skipReason: skipWhenAlreadyPublished,
  describe: (release) => [`git push --atomic ${release.gitRemote} ${releaseRefs(requireValue(release.commit, 'commit'), release.tag).join(' ')}`],
  async run(release) {
    if (!(await hasRemote(release.workspaceRoot, release.gitRemote))) {
      throw new ReleaseTagError(`git remote ${release.gitRemote} does not exist: add the Gitea repository as ${release.gitRemote} (git remote add ${release.gitRemote} <url>) or pass --git-remote, then re-run nx release publish`);
    }
    await pushRelease(release.workspaceRoot, release.gitRemote, releaseRefs(requireValue(release.commit, 'commit'), release.tag), release.product);
  },
};

const publishStage: ReleaseStage<ProductRelease> = {
  name: 'gitea-publish',
  writes: true,
  skipReason: skipWhenAlreadyPublished,
  describe: (release) => [
    `PATCH ${releasesPath(release.gitea.repo)}/${release.existing?.id ?? '{id}'}: set the notes (${release.changelogNotes ? `${release.tag}'s CHANGELOG.md section` : 'no CHANGELOG.md section yet: nx release writes it before publishing'}) and publish it`,
  ],
  async run(release) {
    const request = { ...requireValue(release.publishRequest, 'package'), draft: false };
    const context: StepContext = { client: release.gitea, request, release: requireValue(release.release ?? release.existing, 'gitea-draft') };
    await finalizeStep(`${releasesPath(release.gitea.repo)}/${context.release?.id}`, request, false).run(context);
    release.release = context.release;
  },
};

/**
 * The draft is stamped with the release's tag and commit, as its claim was (release-claim.ts), so a
 * re-run of the same release commit anywhere finishes it; what it uploads is then checked asset by asset.
 */
function publishRequestOf(release: ProductRelease): PublishRequest {
  const artifacts = requireValue(release.artifacts, 'package');
  const assets = requireValue(release.assets, 'package');
  const commit = requireValue(release.commit, 'commit');
  return {
    tag: release.tag,
    title: release.tag,
    notes: release.changelogNotes ?? generatedNotes(release.tag, assets, artifacts.manifest),
    target: commit.sha,
    assets,
    draft: true,
    prerelease: release.prerelease,
    replace: false,
    publisherId: releasePublisherId(release.tag, commit.sha),
  };
}

function requireValue<T>(value: T | undefined, stage: string): T {
  if (value === undefined) throw new Error(`a release stage ran before the ${stage} stage it needs (a bug in the stage order)`);
  return value;
}
