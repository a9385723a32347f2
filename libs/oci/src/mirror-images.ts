import { BlobTransfers } from './blob-transfers';
import { copyImage, type CopyImageOptions, type CopyImageResult } from './copy-image';
import { HostLimiter } from './host-limiter';
import { ImageReference } from './image-reference';
import type { ImageLocation } from './image-store';
import type { MirrorImage } from './mirror-list';
import { OciLayout } from './oci-layout';
import { InvalidReferenceError } from './oci-errors';
import type { RegistryClient } from './registry-client';
import { BlobSightings, registryImage } from './registry-repository';

export interface MirrorImagesOptions {
  client: RegistryClient;
  /** host[:port][/namespace] the targets go under, e.g. gitea.bnkops.com/admin. */
  targetRegistry: string;
  /** Images copied at once; blob transfers per registry host are limited to four times this. */
  concurrency: number;
  /** Unset: every platform, digests unchanged. */
  platforms?: string[];
  /** Resolve with HEAD requests only; write nothing. */
  dryRun?: boolean;
  onImageDone?: (outcome: MirrorOutcome) => void;
  /** Called as each blob is copied, with its size, so long runs can report bytes as they go. */
  onBytesCopied?: (bytes: number) => void;
  onBlobRetry?: CopyImageOptions['onBlobRetry'];
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

/** Where one image of a mirror run goes, and how reports name that place. */
export interface MirrorTarget {
  location: ImageLocation;
  description: string;
}

/**
 * Plans every target before any request, so a bad --registry fails with nothing written.
 * `oci:<dir>` mirrors into an OCI image layout (a bundle for an air-gapped server) instead.
 */
export function mirrorTargets(targetRegistry: string, images: MirrorImage[], client: RegistryClient, sightings = new BlobSightings()): MirrorTarget[] {
  if (targetRegistry.startsWith('oci:')) {
    const layout = new OciLayout(targetRegistry.slice('oci:'.length));
    return images.map((image) => ({ location: { store: layout, reference: image.target }, description: `${layout.description}:${image.target}` }));
  }
  return images.map((image) => {
    const ref = ImageReference.parse(`${targetRegistry.replace(/\/+$/, '')}/${image.target}`);
    if (!targetRegistry.startsWith(ref.registry)) {
      throw new InvalidReferenceError(targetRegistry, 'the target registry must start with a host, e.g. gitea.bnkops.com/admin or 127.0.0.1:5000, or be oci:<directory>');
    }
    return { location: registryImage(client, ref, sightings), description: ref.toString() };
  });
}

/**
 * Mirrors each image independently: one failing is reported and the others carry on. Layers
 * already copied for one image are mounted for the next.
 */
export async function mirrorImages(images: MirrorImage[], options: MirrorImagesOptions): Promise<MirrorOutcome[]> {
  const sightings = new BlobSightings();
  const targets = mirrorTargets(options.targetRegistry, images, options.client, sightings);
  const limiter = new HostLimiter(options.concurrency * 4);
  const transfers = new BlobTransfers();
  const onBlobDone: CopyImageOptions['onBlobDone'] = (blob, outcome) => {
    if (outcome === 'copied') options.onBytesCopied?.(blob.size);
  };
  const outcomes: MirrorOutcome[] = new Array(images.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < images.length; index = next++) {
      outcomes[index] = await mirrorOne(images[index], targets[index], options, { limiter, transfers, onBlobDone, onBlobRetry: options.onBlobRetry }, sightings);
      options.onImageDone?.(outcomes[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, images.length) }, worker));
  return outcomes;
}

async function mirrorOne(image: MirrorImage, target: MirrorTarget, options: MirrorImagesOptions, shared: Pick<CopyImageOptions, 'limiter' | 'transfers' | 'onBlobDone' | 'onBlobRetry'>, sightings: BlobSightings): Promise<MirrorOutcome> {
  const started = Date.now();
  const base = { group: image.group, source: image.source.toString(), target: target.description };
  const source = registryImage(options.client, image.source, sightings);
  try {
    if (options.dryRun) return { ...base, ...(await checkOne(source, target.location)), durationMs: Date.now() - started };
    const copy = await copyImage(source, target.location, { platforms: options.platforms, ...shared });
    return { ...base, status: copy.status, digest: copy.digest, copy, durationMs: Date.now() - started };
  } catch (error) {
    return { ...base, status: 'failed', error: (error as Error).message, durationMs: Date.now() - started };
  }
}

/** A dry run compares digests by HEAD: nothing is read in full, nothing written. */
async function checkOne(source: ImageLocation, target: ImageLocation): Promise<Pick<MirrorOutcome, 'status' | 'digest' | 'error'>> {
  const found = await source.store.headManifest(source.reference);
  if (!found) return { status: 'failed', error: `manifest unknown: ${source.store.description}:${source.reference} does not exist` };
  const existing = await target.store.headManifest(target.reference);
  return { status: existing?.digest === found.digest ? 'current' : 'would-copy', digest: found.digest };
}
