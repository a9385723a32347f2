import { copyImage, type CopyImageResult } from './copy-image';
import { HostLimiter } from './host-limiter';
import { ImageReference } from './image-reference';
import type { MirrorImage } from './mirror-list';
import { InvalidReferenceError } from './oci-errors';
import type { RegistryClient } from './registry-client';
import { BlobSightings, registryImage } from './registry-repository';

export interface MirrorImagesOptions {
  client: RegistryClient;
  /** host[:port][/namespace] the targets go under, e.g. gitea.bnkops.com/admin. */
  targetRegistry: string;
  /** Images copied at once; blob transfers per registry host are limited to twice this. */
  concurrency: number;
  /** Unset: every platform, digests unchanged. */
  platforms?: string[];
  /** Resolve with HEAD requests only; write nothing. */
  dryRun?: boolean;
  onImageDone?: (outcome: MirrorOutcome) => void;
}

export type MirrorStatus = 'copied' | 'current' | 'would-copy' | 'failed';

export interface MirrorOutcome {
  group: string;
  source: string;
  target: string;
  status: MirrorStatus;
  /** Set once the source was resolved. */
  digest?: string;
  copy?: CopyImageResult;
  /** Why it failed (or, in a dry run, why it could not be checked). */
  error?: string;
  durationMs: number;
}

/** Where the targets of a mirror run go: parsed once so a bad --registry fails before any copy. */
export function targetReference(targetRegistry: string, target: string): ImageReference {
  const ref = ImageReference.parse(`${targetRegistry.replace(/\/+$/, '')}/${target}`);
  if (!targetRegistry.startsWith(ref.registry)) {
    throw new InvalidReferenceError(targetRegistry, 'the target registry must start with a host, e.g. gitea.bnkops.com/admin or 127.0.0.1:5000');
  }
  return ref;
}

/**
 * Mirrors each image independently: one failing is reported and the others carry on. Layers
 * already copied for one image are mounted for the next.
 */
export async function mirrorImages(images: MirrorImage[], options: MirrorImagesOptions): Promise<MirrorOutcome[]> {
  const targets = images.map((image) => targetReference(options.targetRegistry, image.target));
  const limiter = new HostLimiter(options.concurrency * 2);
  const sightings = new BlobSightings();
  const outcomes: MirrorOutcome[] = new Array(images.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < images.length; index = next++) {
      outcomes[index] = await mirrorOne(images[index], targets[index], options, limiter, sightings);
      options.onImageDone?.(outcomes[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, images.length) }, worker));
  return outcomes;
}

async function mirrorOne(image: MirrorImage, target: ImageReference, options: MirrorImagesOptions, limiter: HostLimiter, sightings: BlobSightings): Promise<MirrorOutcome> {
  const started = Date.now();
  const base = { group: image.group, source: image.source.toString(), target: target.toString() };
  try {
    if (options.dryRun) return { ...base, ...(await checkOne(image, target, options.client)), durationMs: Date.now() - started };
    const copy = await copyImage(registryImage(options.client, image.source, sightings), registryImage(options.client, target, sightings), {
      platforms: options.platforms,
      limiter,
    });
    return { ...base, status: copy.status, digest: copy.digest, copy, durationMs: Date.now() - started };
  } catch (error) {
    return { ...base, status: 'failed', error: (error as Error).message, durationMs: Date.now() - started };
  }
}

/** A dry run compares digests by HEAD: nothing is read in full, nothing written. */
async function checkOne(image: MirrorImage, target: ImageReference, client: RegistryClient): Promise<Pick<MirrorOutcome, 'status' | 'digest' | 'error'>> {
  const source = await client.headManifest(image.source);
  if (!source) return { status: 'failed', error: `manifest unknown: ${image.source} does not exist` };
  const existing = await client.headManifest(target);
  return { status: existing?.digest === source.digest ? 'current' : 'would-copy', digest: source.digest };
}
