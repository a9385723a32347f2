import { ImageReference, OciError } from '@changemaker/oci';
import { InvalidCacheRepositoryError } from './errors';

/**
 * The time every layer (its files and its history entry) is stamped with by buildah and podman.
 * It must not depend on the commit: a cached layer keeps the time of the build that made it, so a
 * layer stamped with the commit's time would differ from the same layer built cold at another
 * commit. A time that depends only on the layer's own inputs keeps a cached layer valid across
 * commits; with one --timestamp per build, the only such time is a fixed one. The commit's time
 * goes into the config's `created` and the org.opencontainers.image.created label instead.
 */
export const layerTimestamp = 0;

/** How one build uses the layer cache. */
export interface LayerCacheRequest {
  /**
   * False when the stages built run no command (a bundle copied onto a base): a cache would save
   * nothing and cost a layer per step and an export per step, so the build is as it was before
   * the cache: one layer per stage, stamped with the commit's time.
   */
  enabled: boolean;
  /** False: every step is built again (--no-cache); what it builds still goes into the cache. */
  reuse: boolean;
  /** A registry repository (host/namespace/name, no tag) the cache is imported from and exported to. */
  repository?: string;
}

export interface LayerCacheSettings {
  /** Default true; false is --no-cache. */
  cache?: boolean;
  /**
   * Where the registry-backed cache lives: a repository name under `registry`, or a full
   * host/namespace/name. Default: the image's repository name plus `-cache`, beside the image.
   */
  cacheRepository?: string;
  registry: string;
  imageName: string;
  push: boolean;
  /** Whether the stages built have a RUN step (dockerfile-stages.ts). */
  runsCommands: boolean;
}

/**
 * The registry-backed cache is used only when pushing: a build-only run sends nothing to the
 * registry and reads nothing from it, so it needs no login.
 */
export function layerCacheFor(settings: LayerCacheSettings): LayerCacheRequest {
  const reuse = settings.cache ?? true;
  // Checked even when unused: a bad setting is said at once, not on the first image that needs it.
  const repository = settings.push ? cacheRepositoryOf(settings) : undefined;
  if (!settings.runsCommands) return { enabled: false, reuse };
  return { enabled: true, reuse, ...(repository ? { repository } : {}) };
}

function cacheRepositoryOf({ cacheRepository, registry, imageName }: LayerCacheSettings): string {
  const location = cacheRepository ?? `${imageName}-cache`;
  try {
    const reference = ImageReference.parse(namesRegistryHost(location) ? location : `${registry}/${location}`);
    if (reference.tag !== undefined || reference.digest !== undefined) throw new InvalidCacheRepositoryError(location, 'it has a tag or digest; the cache keys are its tags');
    return reference.name;
  } catch (error) {
    if (error instanceof OciError) throw new InvalidCacheRepositoryError(location, error.message);
    throw error;
  }
}

/** Whether the location starts with its own registry host, as docker reads a reference. */
function namesRegistryHost(location: string): boolean {
  try {
    return location.startsWith(`${ImageReference.parse(location).registry}/`);
  } catch {
    return false;
  }
}
