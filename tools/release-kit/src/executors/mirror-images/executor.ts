import { relative, resolve } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import {
  formatMirrorLock,
  loadMirrorList,
  mirrorImages,
  mirrorLockFileOf,
  mirrorTargets,
  OciError,
  readMirrorLock,
  recordMirrored,
  RegistryClient,
  registryPrefixProblem,
  selectGroups,
  writeMirrorLock,
  type MirrorImage,
  type MirrorList,
  type MirrorLock,
  type MirrorOutcome,
} from '@changemaker/oci';
import { registryFrom, registryOptionSetting, SettingError } from '@changemaker/release-contract';
import { productRegistryOptionOf } from '../../release/product-release-target';
import { countOf, outcomeLine, ProgressHeartbeat, statusCounts, summaryTable, verdictLine } from './mirror-report';
import type { MirrorImagesOptions } from './schema';
import { isDryRun } from '../../release/release-version';
import { refusedForPluginOptions } from '../../plugins/plugin-options';

interface NormalizedOptions {
  manifest: string;
  lockFile: string;
  /** The list and lock as messages name them: relative to the workspace root. */
  manifestShown: string;
  lockShown: string;
  /** --update: accept every moved pin, or these. */
  update: 'all' | string[] | undefined;
  /** --replace: overwrite every occupied target tag, or these pins'. */
  replace: 'all' | string[] | undefined;
  registry: string;
  groups?: string[];
  dryRun: boolean;
  concurrency: number;
  platforms?: string[];
  chunkSize?: number;
  insecureRegistries: string[];
  json: boolean;
}

export default async function runExecutor(options: MirrorImagesOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  if (refusedForPluginOptions(context)) return { success: false };
  let normalized: NormalizedOptions;
  let list: MirrorList;
  let images: MirrorImage[];
  let lock: MirrorLock;
  let acceptMoved: 'all' | Set<string> | undefined;
  let replaceOccupied: 'all' | Set<string> | undefined;
  try {
    normalized = normalizeOptions(options, context.root, process.env, productRegistryOptionOf(context.projectsConfigurations?.projects[context.projectName ?? '']));
    list = await loadMirrorList(normalized.manifest, normalized.manifestShown);
    images = selectGroups(list, normalized.groups);
    lock = await readMirrorLock(normalized.lockFile, normalized.lockShown);
    acceptMoved = pinsNamed('--update', normalized.update, images, 'accept every moved pin');
    replaceOccupied = pinsNamed('--replace', normalized.replace, images, 'replace every occupied tag');
  } catch (error) {
    return refuse(error);
  }
  const client = new RegistryClient({ insecureRegistries: normalized.insecureRegistries, chunkSize: normalized.chunkSize, userAgent: 'changemaker-release-kit mirror-images' });
  try {
    // Planning sends nothing; a bad --registry stops here with nothing written.
    mirrorTargets(normalized.registry, images, client);
  } catch (error) {
    await client.close();
    return refuse(error);
  }
  const progress = normalized.json ? console.error : console.log;
  progress(`${normalized.dryRun ? 'checking' : 'mirroring'} ${countOf(images.length, 'image')} into ${normalized.registry} (concurrency ${normalized.concurrency}, platforms ${normalized.platforms?.join(',') ?? 'all'})`);
  const heartbeat = new ProgressHeartbeat(images.length, progress);
  const outcomes = await mirrorImages(images, {
    client,
    targetRegistry: normalized.registry,
    concurrency: normalized.concurrency,
    platforms: normalized.platforms,
    dryRun: normalized.dryRun,
    lock,
    acceptMoved,
    replaceOccupied,
    onImageDone: (outcome) => {
      heartbeat.imageDone();
      progress(outcomeLine(outcome, normalized.dryRun));
    },
    onBytesCopied: (bytes) => heartbeat.bytesCopied(bytes),
    onBlobRetry: ({ blob, attempt, attempts, reason }) =>
      progress(`  ${blob.digest.slice(0, 19)}…: ${reason}; sending it again from its start (attempt ${attempt} of ${attempts})`),
  }).finally(() => {
    heartbeat.stop();
    return client.close();
  });
  progress(summaryTable(outcomes, normalized.dryRun));
  progress(verdictLine(outcomes, normalized.registry, normalized.dryRun));
  let lockWritten = false;
  if (!normalized.dryRun) {
    const listed = new Set([...list.groups.values()].flat().map((image) => image.target));
    const next = recordMirrored(lock, outcomes, normalized.platforms, listed);
    if (formatMirrorLock(next) !== formatMirrorLock(lock)) {
      try {
        await writeMirrorLock(normalized.lockFile, next);
      } catch (error) {
        return refuse(error);
      }
      lockWritten = true;
      progress(`lock: wrote ${normalized.lockShown} (${countOf(next.size, 'pin')}); commit it with the mirror list`);
    }
  }
  if (normalized.json) console.log(JSON.stringify({ registry: normalized.registry, dryRun: normalized.dryRun, lockFile: normalized.lockShown, lockWritten, counts: statusCounts(outcomes, normalized.dryRun), images: outcomes }));
  return { success: outcomes.every((outcome) => !unsuccessful.has(outcome.status)) };
}

/** Failures, and pins refused until an option accepts them. */
const unsuccessful: ReadonlySet<MirrorOutcome['status']> = new Set(['failed', 'moved', 'occupied']);

/** --update and --replace name pins by target (postgres:16-alpine) or its name alone (postgres); a name matching nothing is a mistake. */
function pinsNamed(option: string, names: 'all' | string[] | undefined, images: MirrorImage[], aloneDoes: string): 'all' | Set<string> | undefined {
  if (names === undefined || names === 'all') return names;
  const unknown = names.filter((name) => !images.some((image) => matchesPin(image, name)));
  if (unknown.length > 0) {
    throw new OciError(`${option}: ${unknown.map((name) => `"${name}"`).join(', ')} is no pin of the images selected; name a target such as ${images[0]?.target ?? 'postgres:16-alpine'}, or give ${option} alone to ${aloneDoes}`);
  }
  return new Set(images.filter((image) => names.some((name) => matchesPin(image, name))).map((image) => image.target));
}

function matchesPin(image: MirrorImage, name: string): boolean {
  return image.target === name || image.target.split(':')[0] === name;
}

/** `projectRegistry`: the product's own registry option (the plugin's), where its release looks for the mirrored images. */
function normalizeOptions(options: MirrorImagesOptions, root: string, env: NodeJS.ProcessEnv, projectRegistry: string | undefined): NormalizedOptions {
  const manifest = resolve(root, options.manifest ?? 'docker/mirror-images.json');
  const groups = options.coreOnly ? ['core'] : listOption(options.groups);
  if (options.coreOnly && options.groups) throw new OciError('give either --core-only or --groups, not both');
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new OciError(`--concurrency must be a whole number of at least 1, not ${options.concurrency}`);
  const platforms = listOption(options.platforms);
  const badPlatform = platforms?.find((platform) => !/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(platform));
  if (badPlatform) throw new OciError(`--platforms: "${badPlatform}" is not os/arch[/variant], e.g. linux/arm64`);
  const registry = options.registry || projectRegistry || registryFrom(env);
  const setting = options.registry ? '--registry' : projectRegistry ? registryOptionSetting : 'GITEA_REGISTRY';
  const registryProblem = registry.startsWith('oci:') ? undefined : registryPrefixProblem(registry, setting);
  if (registryProblem) throw new OciError(registryProblem);
  return {
    manifest,
    lockFile: mirrorLockFileOf(manifest),
    manifestShown: relative(root, manifest),
    lockShown: relative(root, mirrorLockFileOf(manifest)),
    update: pinsOption(options.update),
    replace: pinsOption(options.replace),
    registry: workspaceRelativeLayout(registry, root),
    groups,
    dryRun: isDryRun(options, env),
    concurrency,
    platforms,
    chunkSize: options.chunkSize,
    insecureRegistries: options.insecureRegistries ?? [],
    json: options.json ?? false,
  };
}

/** A mistake in the options or the mirror list: one line per problem, and nothing sent. */
function refuse(error: unknown): { success: false } {
  if (!(error instanceof OciError || error instanceof SettingError)) throw error;
  console.error(`mirror-images: ${error.message}`);
  return { success: false };
}

/** oci:<dir> is relative to the workspace root, like every other path option. */
function workspaceRelativeLayout(registry: string, root: string): string {
  return registry.startsWith('oci:') ? `oci:${resolve(root, registry.slice('oci:'.length))}` : registry;
}

/** --update / --replace: alone (true) every pin, else a list of pins. */
function pinsOption(value: boolean | string[] | string | undefined): 'all' | string[] | undefined {
  return value === true ? 'all' : listOption(value === false ? undefined : value);
}

/** Options arrive as arrays from project.json and as comma lists from the command line. */
function listOption(value: string[] | string | undefined): string[] | undefined {
  const items = (Array.isArray(value) ? value : (value ?? '').split(',')).map((item) => item.trim()).filter(Boolean);
  return items.length > 0 ? items : undefined;
}
