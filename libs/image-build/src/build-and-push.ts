import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ImageReference, RegistryClient, dockerConfigFile, dockerCredentialResolver, registryImage, resolveRegistryCredentials, type FetchedManifest, type RetryPolicy } from '@changemaker/oci';
import type { ImageResult, LayerCacheUse } from '@changemaker/release-contract';
import { processCommandRunner, type CommandRunner } from './command-runner';
import type { ImageBuildReport, RegistryLogin } from './container-engine';
import { buildRunsCommands } from './dockerfile-stages';
import { selectEngine } from './engine-detection';
import { BuildContextNotFoundError, DockerfileNotFoundError } from './errors';
import { isOnBranch, readGitRevision, readNewerStableRelease, type GitRevision } from './git-revision';
import { openContainerLabels } from './image-labels';
import { ignoreFileFor } from './build-context';
import { imagePlatformsOf } from './image-content';
import { fileTimeOf, holdsWhatTheRebuildHolds, imageUnderInputsTag, isForExactly, lookUpInputsTag, otherPlatformsLine } from './inputs-image';
import { effectivePlatforms } from './platforms';
import { inputsTagFor } from './inputs-hash';
import { layerCacheFor, type LayerCacheRequest } from './layer-cache';
import { pushReproducibleConfig } from './reproducible-image';
import { userContainersAuthFile } from './temporary-auth';
import { expandTagPatterns, validateTagPattern } from './tag-pattern';
import { validateEngineChoice } from './engine-choice';

export interface ImageBuildOptions {
  /** Absolute path of the Dockerfile. */
  dockerfile: string;
  /** Absolute path of the build context. */
  context: string;
  target?: string;
  /** Where images go: a host with an optional namespace, e.g. gitea.bnkops.com/admin. */
  registry: string;
  /** The repository under the registry, e.g. changemaker-api. */
  imageName: string;
  tagPatterns: readonly string[];
  buildArgs: Readonly<Record<string, string>>;
  platforms: readonly string[];
  engine: string;
  push: boolean;
  registryCache: boolean;
  /** The layer cache (local, and in the registry when pushing); default true. False is --no-cache: every step built. */
  cache?: boolean;
  /** Where the registry-backed layer cache lives: a name under `registry` or host/namespace/name; default `<imageName>-cache`. */
  cacheRepository?: string;
  version?: string;
  /**
   * The branch `latest` follows (nx.json's defaultBase): an image pushed from a commit elsewhere (a
   * feature branch, an old commit checked out) leaves latest where it is. Undefined: any commit moves it.
   */
  latestBranch?: string;
  /** For the org.opencontainers.image.source label. */
  sourceUrl?: string;
  /** The git checkout the commit, branch and time come from. */
  workspaceRoot: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  runner?: CommandRunner;
}

export interface ImageTarget {
  revision: GitRevision;
  tags: string[];
  repository: ImageReference;
  references: ImageReference[];
  inputsTag: string;
}

/** What one build and push did: the image result docker-push records, without the project's name. */
export type ImageBuildResult = Omit<ImageResult, 'project'>;

/**
 * Builds one service image and pushes it under every requested tag, unless the registry already
 * holds an image built from exactly these inputs: then the tags are added registry-side and
 * nothing is built. Everything that can be checked is checked before anything is sent.
 */
export async function buildAndPushImage(options: ImageBuildOptions): Promise<ImageBuildResult> {
  const runner = options.runner ?? processCommandRunner(options.env);
  const { revision, tags, repository, references, inputsTag } = await resolveImageTarget(options, runner);
  const layerCache = layerCacheFor({ ...options, runsCommands: buildRunsCommands(await readFile(options.dockerfile, 'utf8'), options.target) });
  const result = { image: repository.name, references: references.map(String), inputsTag, commit: revision.sha };

  const registry = options.push ? registryClientFor(options.env) : undefined;
  if (registry && options.registryCache) {
    const existing = await lookUpInputsTag(registry, repository.withTag(inputsTag), options.platforms);
    if (existing?.reusable) {
      options.log(`${repository.name}: an image of these inputs is already in the registry (${inputsTag.slice(0, 19)}…); adding tags registry-side, nothing built`);
      await tagRegistrySide(registry, existing.manifest, references);
      return { ...result, digest: existing.manifest.digest, built: false };
    }
    if (existing) options.log(`${repository.name}: ${otherPlatformsLine(inputsTag, existing.platforms, existing.wanted)}; building instead`);
  } else if (registry) {
    // Without the cache lookup, a bad registry or password must still fail before a long build.
    await registry.headManifest(references[0]);
  }

  const engine = await selectEngine(options.engine, runner);
  const pushOrder = latestLast(references);
  const labels = openContainerLabels({ revision, source: options.sourceUrl, version: options.version });
  // Labels naming the commit would be a step that misses the cache on every commit, costing a
  // commit and an export each: a pushed image with the cache gets them in the config rewrite.
  const labelsAfterPush = options.push && layerCache.enabled;
  const previous = registry && !options.registryCache ? await imageUnderInputsTag(registry, repository.withTag(inputsTag)) : undefined;
  options.log(`${repository.name}: building with ${engine.name}${options.push ? `, then pushing ${tags.join(', ')}` : ' (no push)'}`);
  const report = await engine.buildImage({
    dockerfile: options.dockerfile,
    context: options.context,
    ignoreFile: ignoreFileFor(options.dockerfile, options.context),
    // One push; the other tags are added registry-side below, so every tag has the same digest.
    references: (options.push ? pushOrder.slice(0, 1) : references).map(String),
    target: options.target,
    // Not part of the inputs hash: an image reused for a later commit keeps reporting the commit it was built from, as its labels do.
    buildArgs: { GIT_COMMIT: revision.sha, ...(options.version ? { APP_VERSION: options.version } : {}), ...options.buildArgs },
    labels: labelsAfterPush ? {} : labels,
    platforms: options.platforms,
    timestamp: (previous ? await fileTimeOf(previous) : undefined) ?? revision.commitTime,
    layerCache,
    push: options.push,
    login: options.push ? await loginFor(repository.registry, options.env) : undefined,
    userAuthFile: userContainersAuthFile(options.env),
    userDockerConfig: dockerConfigFile(options.env),
    onLine: (line) => options.log(`  ${line}`),
  });
  const cacheUse = layerCacheUseOf(layerCache, report);
  if (cacheUse?.exportFailure) options.log(`${repository.name}: warning: the layer cache was not exported to ${cacheUse.repository}: ${cacheUse.exportFailure}`);
  const built = { ...result, built: true, engine: engine.name, ...(cacheUse ? { layerCache: cacheUse } : {}) };
  if (!registry) return built;
  const created = new Date(revision.commitTime * 1000).toISOString().replace('.000Z', 'Z');
  const pushed = await pushReproducibleConfig(registry, pushOrder[0], { created, labels: labelsAfterPush ? labels : {} });
  const kept = previous && (await holdsWhatTheRebuildHolds(previous, pushed)) ? previous.manifest : undefined;
  if (kept) {
    options.log(`${repository.name}: rebuilt into what the image already under these inputs holds (${kept.digest}); kept that one`);
    await tagRegistrySide(registry, kept, pushOrder);
    return { ...built, digest: kept.digest };
  }
  // The inputs tag goes last: it tells later runs a complete image exists. It is written with the
  // lookup off too: a rebuild forced after a base image update must become the image later runs
  // reuse for these inputs, or the next release would tag the one it replaced. It is not written
  // over an image of other platforms than the hash names (the engine's default guessed wrong:
  // platforms.ts), which no later run could reuse.
  const pushedPlatforms = await imagePlatformsOf(registryImage(registry, pushOrder[0]).store, pushed);
  const wanted = effectivePlatforms(options.platforms).platforms;
  const keepsInputsTag = isForExactly(pushedPlatforms, wanted);
  if (!keepsInputsTag) options.log(`${repository.name}: warning: ${otherPlatformsLine(inputsTag, pushedPlatforms, wanted)}; not kept under that tag`);
  const otherTags = [...pushOrder.slice(1), ...(keepsInputsTag ? [repository.withTag(inputsTag)] : [])];
  await tagRegistrySide(registry, pushed, otherTags);
  return { ...built, digest: pushed.digest };
}

function layerCacheUseOf(request: LayerCacheRequest, report: ImageBuildReport): LayerCacheUse | undefined {
  if (!request.enabled) return undefined;
  return {
    reused: request.reuse,
    ...(report.cacheRepository ? { repository: report.cacheRepository } : {}),
    ...(report.cacheExportFailure ? { exportFailure: report.cacheExportFailure } : {}),
  };
}

/** What one build would produce and where it would go: checked inputs, tags, references, the inputs tag. */
export async function resolveImageTarget(options: ImageBuildOptions, runner: CommandRunner): Promise<ImageTarget> {
  validateInputs(options);
  const revision = await readGitRevision(options.workspaceRoot, runner);
  const expanded = expandTagPatterns(options.tagPatterns, { sha: revision.sha, branch: revision.branch, version: options.version });
  const repository = ImageReference.parse(`${options.registry}/${options.imageName}`);
  // Said here, so the push and its dry run say it alike.
  const latestStays = expanded.includes('latest') ? await whyLatestStays(options, runner, revision) : undefined;
  if (latestStays) options.log(`${repository.name}: latest stays where it is: ${latestStays}`);
  const tags = latestStays ? expanded.filter((tag) => tag !== 'latest') : expanded;
  const references = tags.map((tag) => repository.withTag(tag));
  return { revision, tags, repository, references, inputsTag: await inputsTagFor(options) };
}

/**
 * Why this push must not move `latest`, or undefined: a fix for an older line (latest stays with
 * the newer release), or a commit that is not the tip of the branch latest follows.
 */
async function whyLatestStays(options: ImageBuildOptions, runner: CommandRunner, revision: GitRevision): Promise<string | undefined> {
  const newer = options.version ? await readNewerStableRelease(options.workspaceRoot, runner, options.version) : undefined;
  if (newer) return `${newer} is a newer release than ${options.version}, which fixes an older line`;
  if (!options.latestBranch || (await isOnBranch(options.workspaceRoot, runner, revision, options.latestBranch))) return undefined;
  const where = revision.branch ? `on ${revision.branch}` : `a detached HEAD (${revision.sha.slice(0, 12)}) that no remote's ${options.latestBranch} names`;
  return `this commit is ${where}, not on ${options.latestBranch}, the branch latest follows (nx.json's defaultBase); the image goes under its other tags`;
}

export function registryClientFor(env: NodeJS.ProcessEnv, retry?: Partial<RetryPolicy>): RegistryClient {
  return new RegistryClient({ credentials: dockerCredentialResolver({ env }), retry });
}

/**
 * `latest` moves only once the image is complete under every other tag: the engine pushes under the
 * first tag, and a push refused part-way (a quota, a lost login) must not have moved the tag that
 * servers pull by default to an image whose run failed.
 */
function latestLast(references: readonly ImageReference[]): ImageReference[] {
  return [...references.filter((reference) => reference.tag !== 'latest'), ...references.filter((reference) => reference.tag === 'latest')];
}

async function tagRegistrySide(registry: RegistryClient, manifest: FetchedManifest, references: readonly ImageReference[]): Promise<void> {
  for (const reference of references) await registry.putManifest(reference, manifest.bytes, manifest.mediaType);
}

function validateInputs(options: ImageBuildOptions): void {
  validateEngineChoice(options.engine);
  options.tagPatterns.forEach(validateTagPattern);
  if (!existsSync(options.dockerfile)) throw new DockerfileNotFoundError(options.dockerfile);
  if (!existsSync(options.context)) throw new BuildContextNotFoundError(options.context);
}

async function loginFor(host: string, env: NodeJS.ProcessEnv): Promise<RegistryLogin | undefined> {
  const credentials = await resolveRegistryCredentials(host, { env });
  if (!credentials) return undefined;
  if (credentials.identityToken !== undefined) return { host, identityToken: credentials.identityToken };
  return { host, username: credentials.username, password: credentials.password };
}
