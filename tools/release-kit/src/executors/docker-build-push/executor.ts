import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { buildAndPushImage, ImageBuildError, type ImageBuildResult, type LayerCacheUse } from '@changemaker/image-build';
import { OciError } from '@changemaker/oci';
import type { DockerBuildPushOptions } from './schema';

const defaultRegistry = 'gitea.bnkops.com/admin';

export default async function runExecutor(options: DockerBuildPushOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const projectName = context.projectName ?? '';
  if (options.onDemand) {
    console.log(`${projectName}: skipped, an on-demand image (tag docker:on-demand); build it with: npx nx run ${projectName}:${context.targetName} -c with-on-demand`);
    return { success: true };
  }
  const started = Date.now();
  try {
    const paths = await resolvePaths(options, context);
    const result = await buildAndPushImage({
      ...paths,
      registry: options.registry ?? process.env['GITEA_REGISTRY'] ?? defaultRegistry,
      imageName: options.imageName.replaceAll('{projectName}', projectName),
      tagPatterns: options.tags,
      buildArgs: options.buildArgs,
      platforms: options.platforms,
      engine: options.engine,
      push: options.push,
      registryCache: options.registryCache,
      cache: options.cache,
      cacheRepository: options.cacheRepository?.replaceAll('{projectName}', projectName),
      version: options.version,
      workspaceRoot: context.root,
      env: process.env,
      log: (line) => console.log(line),
    });
    await writeResultFile(join(context.root, options.resultFile.replaceAll('{projectName}', projectName)), projectName, result);
    console.log(summaryOf(result, options.push, Date.now() - started));
    if (options.json) console.log(JSON.stringify({ project: projectName, ...result }));
    return { success: true };
  } catch (error) {
    if (error instanceof ImageBuildError || error instanceof OciError) {
      console.error(`${projectName}: ${error.message}`);
      return { success: false };
    }
    throw error;
  }
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
  const text = await readFile(dockerfile, 'utf8').catch(() => '');
  return /^\s*FROM\s+\S+\s+AS\s+production\s*$/im.test(text) ? 'production' : undefined;
}

async function writeResultFile(path: string, project: string, result: ImageBuildResult): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify({ project, ...result }, null, 2)}\n`);
}

function summaryOf(result: ImageBuildResult, pushed: boolean, elapsedMs: number): string {
  const tags = result.references.map((reference) => reference.slice(result.image.length + 1)).join(', ');
  const how = !pushed ? `built with ${result.engine}, not pushed` : result.built ? `built with ${result.engine} and pushed` : 'already in the registry, tagged registry-side (no build)';
  const digest = result.digest ? ` ${result.digest}` : '';
  return `${result.image} [${tags}]${digest}: ${how} in ${(elapsedMs / 1000).toFixed(1)} s${layerCacheSummaryOf(result.layerCache)}`;
}

function layerCacheSummaryOf(cache: LayerCacheUse | undefined): string {
  if (!cache) return '';
  const use = cache.reused ? 'layer cache' : 'layer cache not read (--no-cache)';
  const shared = cache.repository ? (cache.exportFailure ? `, not exported to ${cache.repository}: see the warning above` : `, shared through ${cache.repository}`) : '';
  return ` (${use}${shared})`;
}
