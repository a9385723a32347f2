import { abandonReleaseTargetName, defaultImageNamePattern, defaultTagPatterns, releasePublishTargetName } from '@changemaker/release-contract';
// Types only, as in docker-targets.ts.
import type { ExecutorContext } from '@nx/devkit';
import { executorNamed } from '../executor-names';

/** The image engines docker-build-push can drive (its schema's enum), `auto` picking the first usable. */
const engines = ['auto', 'docker', 'podman', 'buildah'] as const;

/** The plugin's entry in nx.json; every field may also be overridden in a project's own target options. */
export interface DockerTargetsOptions {
  buildTargetName?: string;
  pushTargetName?: string;
  registry?: string;
  imageName?: string;
  tags?: string[];
  engine?: (typeof engines)[number];
  /** Where docker-push keeps the registry-backed layer cache; see the executor's schema. */
  cacheRepository?: string;
  /** Projects with this tag are left out of ordinary runs (the seed's ~9 GB code-server). */
  onDemandTag?: string;
}

export type NormalizedOptions = Required<Omit<DockerTargetsOptions, 'registry' | 'cacheRepository'>> & Pick<DockerTargetsOptions, 'registry' | 'cacheRepository'>;

/** What each option must hold, in words a refusal can quote. */
const optionKinds: Record<keyof DockerTargetsOptions, (value: unknown) => string | undefined> = {
  buildTargetName: nonEmptyString,
  pushTargetName: nonEmptyString,
  registry: nonEmptyString,
  imageName: nonEmptyString,
  tags: (value) => (Array.isArray(value) && value.length > 0 && value.every((tag) => nonEmptyString(tag) === undefined) ? undefined : 'a list of tag patterns, e.g. ["{sha}", "latest"]'),
  engine: (value) => (engines.includes(value as (typeof engines)[number]) ? undefined : `one of ${engines.join(', ')}`),
  cacheRepository: nonEmptyString,
  onDemandTag: nonEmptyString,
};

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? undefined : 'a non-empty string';
}

/**
 * The settings the targets are inferred with. Unusable options give way to the defaults whole, so
 * that the graph stays whole and every command says why in its words: the plugin's tasks and nx
 * release refuse to run on them (pluginOptionsProblemIn). Nx would show a refusal from here only to
 * `nx run` and `nx show`, and hide it from run-many, affected and release behind --verbose.
 */
export function normalizeOptions(given: DockerTargetsOptions | undefined): NormalizedOptions {
  const options = pluginOptionsProblem(given) ? undefined : given;
  return {
    ...normalizedTargetNames(options),
    registry: options?.registry,
    cacheRepository: options?.cacheRepository,
    imageName: options?.imageName ?? defaultImageNamePattern,
    tags: options?.tags ?? [...defaultTagPatterns],
    engine: options?.engine ?? 'auto',
    onDemandTag: onDemandTagOf(options),
  };
}

/** The targets an image project gets, by the names the plugin options give them. */
export function imageTargetNamesOf(options: DockerTargetsOptions | undefined): string[] {
  const { buildTargetName, pushTargetName } = normalizeOptions(options);
  return [buildTargetName, pushTargetName, releasePublishTargetName];
}

export function onDemandTagOf(options: DockerTargetsOptions | undefined): string {
  return options?.onDemandTag ?? 'docker:on-demand';
}

/**
 * What in the plugin's options in nx.json cannot be used, in one line; undefined when nothing. Nx
 * hands a plugin its options unchecked: a misspelt key (`regsitry`), or an image target's option
 * put here (`platforms`), would be dropped without a word, and the images pushed to
 * GITEA_REGISTRY, or for one platform, instead.
 */
export function pluginOptionsProblem(options: unknown): string | undefined {
  const where = "nx.json's options for the @changemaker/release-kit plugin";
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return `${where} are not an object: give them as { "imageName": …, "tags": […] }, or leave them out`;
  for (const [key, value] of Object.entries(options)) {
    if (!Object.hasOwn(optionKinds, key)) {
      return `${where} have "${key}", which is none of its own (${Object.keys(optionKinds).join(', ')}): correct or remove it; an option of the image targets (platforms, buildArgs, …) goes in nx.json's targetDefaults["${executorNamed('docker-build-push')}"].options, which docker-build, docker-push and nx-release-publish all take`;
    }
    const wanted = optionKinds[key as keyof DockerTargetsOptions](value);
    if (wanted) return `${where} give ${key} as ${JSON.stringify(value)}: it must be ${wanted}`;
  }
  const { buildTargetName, pushTargetName } = normalizedTargetNames(options as DockerTargetsOptions);
  if (buildTargetName === pushTargetName) return `${where} give buildTargetName and pushTargetName the same name, "${buildTargetName}": give them two names`;
  for (const [key, name] of Object.entries({ buildTargetName, pushTargetName })) {
    if (takenTargetNames.includes(name)) return `${where} give ${key} as "${name}", a target the image tasks run first or the release needs: choose another name`;
  }
  return undefined;
}

/** `build` runs before every image task; the other two are the release's own. */
const takenTargetNames = ['build', releasePublishTargetName, abandonReleaseTargetName];

function normalizedTargetNames(options: DockerTargetsOptions | undefined): Pick<NormalizedOptions, 'buildTargetName' | 'pushTargetName'> {
  return { buildTargetName: options?.buildTargetName ?? 'docker-build', pushTargetName: options?.pushTargetName ?? 'docker-push' };
}

/** The names nx.json may load this plugin by: its file in this workspace, or its package. */
const pluginNames = ['tools/release-kit/plugin', '@changemaker/release-kit'];

type NxJsonPlugins = { plugins?: Array<string | { plugin: string; options?: unknown }> } | undefined;

/** The first problem in the options of any of this plugin's entries in nx.json (one, or several scoped by include and exclude). */
export function pluginOptionsProblemIn(nxJson: NxJsonPlugins): string | undefined {
  for (const entry of nxJson?.plugins ?? []) {
    if (typeof entry === 'string' || !pluginNames.includes(entry.plugin.replace(/^\.\//, '').replace(/\.js$/, ''))) continue;
    const problem = pluginOptionsProblem(entry.options);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * Each task of the plugin refuses to run on unusable plugin options, saying why in one line: the
 * targets were inferred with the defaults instead (normalizeOptions). True when it refused.
 */
export function refusedForPluginOptions(context: Pick<ExecutorContext, 'nxJsonConfiguration' | 'projectName'>): boolean {
  const problem = pluginOptionsProblemIn(context.nxJsonConfiguration);
  if (problem) console.error(`${context.projectName ?? 'nx'}: nothing was run: ${problem}`);
  return problem !== undefined;
}
