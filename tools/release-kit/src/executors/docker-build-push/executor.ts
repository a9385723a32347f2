import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { defaultRetryPolicy, GiteaError, ReleaseClient } from '@changemaker/gitea';
import { buildAndPushImage, ImageBuildError, planImagePush, type ImageBuildOptions, type ImageBuildResult, type ImagePushPlan } from '@changemaker/image-build';
import { OciError, registryPrefixProblem } from '@changemaker/oci';
import { giteaLocationFrom, giteaTokenFrom, imageResultPathOf, nxRunCommand, registryFrom, releaseTagOf, serviceImageName, SettingError, type ImageResult, type LayerCacheUse } from '@changemaker/release-contract';
import { checkReleaseSigning, claimRelease, ReleaseFlowError, type ProductLocation } from '@changemaker/release-flow';
import { isDryRun, releaseVersionOf, ReleaseVersionError } from '../../release/release-version';
import { sayWhyARealReleaseWouldStop, stopNoticesShown } from '../../release/stop-notices';
import type { DockerBuildPushOptions } from './schema';
import { ignoredFilesRefusal, ignoredFilesSent, sourceRootsOf, uncommittedFilesUnder, uncommittedRefusal } from './uncommitted-sources';
import { refusedForPluginOptions } from '../../plugins/plugin-options';

export default async function runExecutor(options: DockerBuildPushOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  if (refusedForPluginOptions(context)) return { success: false };
  const projectName = context.projectName ?? '';
  if (options.onDemand) {
    console.log(`${projectName}: skipped, an on-demand image (its project has the plugin's onDemandTag); build it with: ${nxRunCommand(projectName, context.targetName ?? '', '-c with-on-demand')}`);
    return { success: true };
  }
  const setByNxRelease = (['tag', 'otp', 'access'] as const).filter((key) => options[key] !== undefined);
  if (setByNxRelease.length > 0 && options.releaseVersionFile === undefined) {
    // Accepted from nx release publish, whose target (it alone has releaseVersionFile) gets them;
    // anywhere else they are a mistake for --tags.
    console.error(`${projectName}: --${setByNxRelease.join(', --')} ${setByNxRelease.length > 1 ? 'are' : 'is'} set by nx release publish and not used here; give an image's tags with --tags, e.g. --tags='{sha}' --tags=v1.2.3`);
    return { success: false };
  }
  const started = Date.now();
  try {
    const buildOptions = await imageBuildOptionsOf(options, context, projectName);
    const release = releaseOf(options, buildOptions, context);
    if (isDryRun(options, process.env)) {
      const notice = release && (await checkReleaseSigning({ ...release, env: process.env, dryRun: true }));
      if (notice && !stopNoticesShown(process.env)) sayWhyARealReleaseWouldStop([notice], process.env);
      const plan = await planImagePush(buildOptions);
      console.log(`dry run: ${describePlan(plan)}; nothing built, pushed or written`);
      if (options.json) console.log(JSON.stringify({ project: projectName, dryRun: true, ...plan }));
      return { success: true };
    }
    if (options.push) {
      // The image is pushed under the commit's tags (and latest): it must hold what the commit holds.
      const uncommitted = await uncommittedFilesUnder(context.root, sourceRootsOf(context, projectName));
      if (uncommitted && uncommitted.length > 0) {
        console.error(uncommittedRefusal(projectName, uncommitted));
        return { success: false };
      }
      const ignored = await ignoredFilesSent(context.root, buildOptions.dockerfile, buildOptions.context);
      if (ignored && ignored.length > 0) {
        console.error(ignoredFilesRefusal(projectName, ignored, context.root, buildOptions.dockerfile, buildOptions.context));
        return { success: false };
      }
    }
    if (release) {
      const claim = await claimRelease({ ...release, workspaceRoot: context.root, gitea: giteaClientFrom(process.env), env: process.env });
      if (claim.created) console.log(`${projectName}: ${claim.release.tag_name} claimed on Gitea for this release commit, as a draft (invisible until the release publishes it)`);
    }
    const result = await buildAndPushImage(buildOptions);
    await writeResultFile(join(context.root, imageResultPathOf(projectName, options.resultFile)), { project: projectName, ...result });
    console.log(summaryOf(result, options.push, Date.now() - started));
    if (options.json) console.log(JSON.stringify({ project: projectName, ...result }));
    return { success: true };
  } catch (error) {
    if (isExplained(error)) {
      console.error(`${projectName}: ${error.message}`);
      return { success: false };
    }
    throw error;
  }
}

/** The errors whose message says what is wrong and what to do: printed as they are. */
function isExplained(error: unknown): error is Error {
  return [ImageBuildError, OciError, ReleaseVersionError, ReleaseFlowError, GiteaError, SettingError].some((kind) => error instanceof kind);
}

/**
 * What an image task of nx release publish (the target the plugin gives releaseVersionFile) pushes
 * under: the release's tag, and the product it is part of. The product is the project holding that
 * VERSION file, as the plugin decided (the one VERSION file in a project is the released product):
 * the same file gives the image its version, so the signing key is checked against the trust lists
 * of the very product whose version the image is tagged with.
 */
function releaseOf(options: DockerBuildPushOptions, buildOptions: ImageBuildOptions, context: ExecutorContext): { tag: string; product: ProductLocation } | undefined {
  if (!options.push || !options.releaseVersionFile || !buildOptions.version) return undefined;
  const path = dirname(resolve(context.root, options.releaseVersionFile));
  const root = relative(context.root, path) || '.';
  return { tag: releaseTagOf(buildOptions.version), product: { name: projectAt(context, root) ?? root, root, path } };
}

/** The name of the project whose root is `root`, as the commands a message advises need it. */
function projectAt(context: ExecutorContext, root: string): string | undefined {
  return Object.entries(context.projectsConfigurations.projects).find(([, project]) => project.root === root)?.[0];
}

/**
 * An image task of nx release publish claims the release's tag before it pushes anything under it,
 * so that of two releases of one version started at once, the loser pushes no image (release-claim.ts).
 */
function giteaClientFrom(env: NodeJS.ProcessEnv): ReleaseClient {
  const gitea = giteaLocationFrom(env);
  return new ReleaseClient({ giteaUrl: gitea.url, repo: gitea.repo, token: giteaTokenFrom(env), retry: defaultRetryPolicy });
}

async function imageBuildOptionsOf(options: DockerBuildPushOptions, context: ExecutorContext, projectName: string): Promise<ImageBuildOptions> {
  const registry = options.registry ?? registryFrom(process.env);
  const registryProblem = registryPrefixProblem(registry, options.registry ? '--registry' : 'GITEA_REGISTRY');
  if (registryProblem) throw new OciError(registryProblem);
  return {
    ...(await resolvePaths(options, context)),
    registry,
    imageName: serviceImageName(projectName, options.imageName),
    tagPatterns: options.tags,
    buildArgs: options.buildArgs,
    platforms: options.platforms,
    engine: options.engine,
    push: options.push,
    registryCache: options.registryCache,
    cache: options.cache,
    cacheRepository: options.cacheRepository ? serviceImageName(projectName, options.cacheRepository) : undefined,
    latestBranch: context.nxJsonConfiguration?.defaultBase ?? 'main',
    version: options.imageVersion ?? (options.releaseVersionFile ? await releaseVersionOf(options.nxReleaseVersionData, context.root, options.releaseVersionFile) : undefined),
    workspaceRoot: context.root,
    env: process.env,
    log: (line) => console.log(line),
  };
}

async function resolvePaths(options: DockerBuildPushOptions, context: ExecutorContext) {
  const project = context.projectsConfigurations.projects[context.projectName ?? ''];
  const dockerfile = join(context.root, options.dockerfile ?? join(project.root, 'Dockerfile'));
  const buildOutput = project.targets?.['build']?.options?.outputPath as string | undefined;
  const contextPath = join(context.root, options.context ?? buildOutput ?? project.root);
  const target = options.target ?? (await productionStageOf(dockerfile));
  return { dockerfile, context: contextPath, target };
}

/** By convention the deployable stage is named production; other stages serve development. */
async function productionStageOf(dockerfile: string): Promise<string | undefined> {
  return productionStageIn(await readFile(dockerfile, 'utf8').catch(() => ''));
}

/** `production` when a `FROM [--platform=… and other flags] <image> AS production` line names that stage. */
export function productionStageIn(dockerfileText: string): string | undefined {
  return /^\s*FROM\s+(?:--\S+\s+)*\S+\s+AS\s+production\s*$/im.test(dockerfileText) ? 'production' : undefined;
}

async function writeResultFile(path: string, result: ImageResult): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
}

function tagsOf(image: string, references: readonly string[]): string {
  return references.map((reference) => reference.slice(image.length + 1)).join(', ');
}

function describePlan(plan: ImagePushPlan): string {
  const tags = `[${tagsOf(plan.image, plan.references)}]`;
  switch (plan.action) {
    case 'build':
      return `${plan.image} ${tags}: build (${plan.reason})`;
    case 'tag-registry-side':
      return `${plan.image} ${tags}: tag registry-side from ${plan.from} (${plan.digest}), no build`;
    case 'unknown':
      return `${plan.image} ${tags}: not checked, ${plan.reason}`;
  }
}

function summaryOf(result: ImageBuildResult, pushed: boolean, elapsedMs: number): string {
  const how = !pushed ? `built with ${result.engine}, not pushed` : result.built ? `built with ${result.engine} and pushed` : 'already in the registry, tagged registry-side (no build)';
  const digest = result.digest ? ` ${result.digest}` : '';
  return `${result.image} [${tagsOf(result.image, result.references)}]${digest}: ${how} in ${(elapsedMs / 1000).toFixed(1)} s${layerCacheSummaryOf(result.layerCache)}`;
}

function layerCacheSummaryOf(cache: LayerCacheUse | undefined): string {
  if (!cache) return '';
  const use = cache.reused ? 'layer cache' : 'layer cache not read (--no-cache)';
  const shared = cache.repository ? (cache.exportFailure ? `, not exported to ${cache.repository}: see the warning above` : `, shared through ${cache.repository}`) : '';
  return ` (${use}${shared})`;
}
