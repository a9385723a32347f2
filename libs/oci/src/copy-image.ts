import { BlobTransfers } from './blob-transfers';
import { sha256Digest } from './digest';
import { HostLimiter } from './host-limiter';
import { isDigestReference, type ImageLocation, type ImageStore } from './image-store';
import { readManifestContent, type ChildDescriptor } from './manifest-content';
import {
  BlobNotFoundError,
  ManifestNotFoundError,
  OciError,
  RegistryAuthError,
  UnsupportedMediaTypeError,
} from './oci-errors';
import { selectPlatforms } from './platform-selection';
import type { BlobDescriptor, FetchedManifest } from './registry-client';
import { defaultRetryPolicy, retryDelayMs, sleep, type RetryPolicy } from './retry-policy';

export interface CopyImageOptions {
  /** e.g. ["linux/amd64", "linux/arm64"]; unset copies every platform and keeps the digest. */
  platforms?: string[];
  /** Shared between copies so a whole run respects one limit per registry host. */
  limiter?: HostLimiter;
  /** Shared between copies so a layer several images share is uploaded once. */
  transfers?: BlobTransfers;
  /** Whole-blob retries after a transfer broke off (on top of the per-request retries). */
  blobRetry?: Partial<RetryPolicy>;
  /** Called as each blob is done, for progress reports on long copies. */
  onBlobDone?: (blob: BlobDescriptor, outcome: BlobOutcome) => void;
  /** Called before a blob is sent again from its start, so a run that slows down can say why. */
  onBlobRetry?: (notice: BlobRetryNotice) => void;
}

export interface BlobRetryNotice {
  blob: BlobDescriptor;
  /** The attempt about to start, counting from 1, and how many there may be. */
  attempt: number;
  attempts: number;
  reason: string;
}

export interface CopyImageResult {
  /** The digest now tagged in the target; equals the source's unless platforms were filtered. */
  digest: string;
  mediaType: string;
  status: 'current' | 'copied';
  bytesCopied: number;
  blobsCopied: number;
  blobsMounted: number;
  blobsSkipped: number;
  manifestsCopied: number;
  manifestsSkipped: number;
}

export class ImageTargetError extends OciError {}

export type BlobOutcome = 'copied' | 'mounted' | 'skipped';

const defaultBlobRetry: RetryPolicy = { ...defaultRetryPolicy, attempts: 4 };

/**
 * Copies an image with everything it references, bytes unchanged: an index's children (every
 * platform, attestations too) before the index, blobs before their manifest, and the tag last,
 * so the target tag never names an image that is not complete. Blobs the target has are
 * skipped, blobs on the same registry are mounted, the rest streamed.
 */
export async function copyImage(source: ImageLocation, target: ImageLocation, options: CopyImageOptions = {}): Promise<CopyImageResult> {
  if (isDigestReference(target.reference)) throw new ImageTargetError(`copy target ${target.store.description} needs a tag, not a digest`);
  const copy = new ImageCopy(source.store, target.store, options);
  return copy.run(source.reference, target.reference);
}

class ImageCopy {
  private readonly limiter: HostLimiter;
  private readonly transfers: BlobTransfers;
  private readonly blobRetry: RetryPolicy;
  private readonly blobsInFlight = new Map<string, Promise<BlobOutcome>>();
  private readonly result: Omit<CopyImageResult, 'digest' | 'mediaType' | 'status'> = {
    bytesCopied: 0,
    blobsCopied: 0,
    blobsMounted: 0,
    blobsSkipped: 0,
    manifestsCopied: 0,
    manifestsSkipped: 0,
  };

  constructor(
    private readonly source: ImageStore,
    private readonly target: ImageStore,
    private readonly options: CopyImageOptions,
  ) {
    this.limiter = options.limiter ?? new HostLimiter(4);
    this.transfers = options.transfers ?? new BlobTransfers();
    this.blobRetry = { ...defaultBlobRetry, ...options.blobRetry };
  }

  async run(sourceReference: string, targetTag: string): Promise<CopyImageResult> {
    // Both HEADs at once: this is all a re-run with nothing changed costs.
    const [head, existing] = await settleAll([this.source.headManifest(sourceReference), this.target.headManifest(targetTag)] as const);
    if (!head) throw new ManifestNotFoundError(`${this.source.description}:${sourceReference}`);
    if (!this.options.platforms && existing?.digest === head.digest) {
      return { ...this.result, digest: head.digest, mediaType: head.mediaType, status: 'current' };
    }
    const manifest = await this.source.getManifest(head.digest);
    const top = this.options.platforms ? await this.narrowToPlatforms(manifest, this.options.platforms) : manifest;
    if (top !== manifest && existing?.digest === top.digest) {
      return { ...this.result, digest: top.digest, mediaType: top.mediaType, status: 'current' };
    }
    await this.copyReferencedContent(top);
    await this.target.putManifest(targetTag, top);
    this.result.manifestsCopied++;
    return { ...this.result, digest: top.digest, mediaType: top.mediaType, status: 'copied' };
  }

  /** A new index holding only the wanted platforms: its digest differs from the source's by necessity. */
  private async narrowToPlatforms(manifest: FetchedManifest, platforms: string[]): Promise<FetchedManifest> {
    const content = readManifestContent(this.describe(manifest.digest), manifest.mediaType, manifest.bytes);
    if (content.kind !== 'index') return manifest;
    const kept = selectPlatforms(content.children, platforms);
    if (kept.length === 0) {
      throw new UnsupportedMediaTypeError(this.describe(manifest.digest), `an index with none of the platforms ${platforms.join(', ')}`);
    }
    if (kept.length === content.children.length) return manifest;
    const bytes = Buffer.from(JSON.stringify({ ...content.json, manifests: kept }));
    return { bytes, mediaType: manifest.mediaType, digest: sha256Digest(bytes) };
  }

  private async copyReferencedContent(manifest: FetchedManifest): Promise<void> {
    const content = readManifestContent(this.describe(manifest.digest), manifest.mediaType, manifest.bytes);
    if (content.kind === 'image') {
      await settleAll(content.blobs.map((blob) => this.copyBlobOnce(blob)));
      return;
    }
    await settleAll(content.children.map((child) => this.copyChild(child)));
  }

  private async copyChild(child: ChildDescriptor): Promise<void> {
    if ((await this.target.headManifest(child.digest))?.digest === child.digest) {
      this.result.manifestsSkipped++;
      return;
    }
    const manifest = await this.source.getManifest(child.digest);
    await this.copyReferencedContent(manifest);
    await this.target.putManifest(child.digest, manifest);
    this.result.manifestsCopied++;
  }

  /** Layers shared by several platforms are transferred once. */
  private copyBlobOnce(blob: BlobDescriptor): Promise<BlobOutcome> {
    let pending = this.blobsInFlight.get(blob.digest);
    if (!pending) {
      const key = this.target.limitKey;
      pending = this.transfers.run(key, blob.digest, () => this.limiter.run(key, () => this.copyBlobWithRetries(blob)));
      this.blobsInFlight.set(blob.digest, pending);
    }
    return pending;
  }

  private async copyBlobWithRetries(blob: BlobDescriptor): Promise<BlobOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await this.copyBlob(blob);
        this.count(outcome, blob);
        return outcome;
      } catch (error) {
        if (isPermanent(error) || attempt >= this.blobRetry.attempts) throw error;
        this.options.onBlobRetry?.({ blob, attempt: attempt + 1, attempts: this.blobRetry.attempts, reason: (error as Error).message });
        await sleep(retryDelayMs(this.blobRetry, attempt));
      }
    }
  }

  private async copyBlob(blob: BlobDescriptor): Promise<BlobOutcome> {
    if (await this.target.hasBlob(blob)) return 'skipped';
    if (this.target.mountBlob && (await this.target.mountBlob(blob, this.source))) return 'mounted';
    // Both kinds of store check the digest as they commit; hashing here as well would double the CPU.
    const content = await this.source.openBlob(blob, { verify: false });
    try {
      await this.target.writeBlob(blob, content);
    } catch (error) {
      // When the download broke off, say so rather than blame the upload it starved.
      throw content.errored ?? error;
    } finally {
      content.destroy();
    }
    return 'copied';
  }

  private count(outcome: BlobOutcome, blob: BlobDescriptor): void {
    if (outcome === 'copied') {
      this.result.blobsCopied++;
      this.result.bytesCopied += blob.size;
    } else if (outcome === 'mounted') {
      this.result.blobsMounted++;
    } else {
      this.result.blobsSkipped++;
    }
    this.options.onBlobDone?.(blob, outcome);
  }

  private describe(digest: string): string {
    return `${this.source.description}@${digest}`;
  }
}

/** Failures a retry cannot fix: the blob or manifest is not there, or we may not read or write it. */
function isPermanent(error: unknown): boolean {
  return error instanceof RegistryAuthError || error instanceof BlobNotFoundError || error instanceof ManifestNotFoundError || error instanceof UnsupportedMediaTypeError;
}

/**
 * Like Promise.all, but waits for every request to finish before reporting the first failure,
 * so no request of a failed copy is still running after copyImage has returned.
 */
async function settleAll<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
