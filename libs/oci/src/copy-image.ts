import { BlobTransfers } from './blob-transfers';
import { HostLimiter } from './host-limiter';
import { isDigestReference, type ImageLocation, type ImageStore } from './image-store';
import type { BlobDescriptor, ChildDescriptor, FetchedManifest, ManifestDescriptor } from './descriptors';
import { narrowToPlatforms } from './index-narrowing';
import { readManifestContent } from './manifest-content';
import {
  BlobNotFoundError,
  ManifestNotFoundError,
  OciError,
  RegistryAuthError,
  NoMatchingPlatformError,
  OwnerNotFoundError,
  SourceBlobCorruptError,
  SourceBlobSizeError,
  UnsupportedMediaTypeError,
  UploadDigestRejectedError,
  UploadRefusedError,
} from './oci-errors';
import { defaultRetryPolicy, retryDelayMs, sleep, type RetryPolicy } from './retry-policy';
import { SourceBlobStream } from './source-blob-stream';

export type CopyImageOptions = CopyPlanOptions & CopyExecutionOptions;

/** How the writes of a plan are carried out. */
export interface CopyExecutionOptions {
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

/** Source and target resolved by HEAD: all a copy with nothing to do costs. */
export interface ResolvedCopy {
  source: ImageLocation;
  target: ImageLocation;
  /** What the source reference names upstream. */
  upstream: ManifestDescriptor;
  /** What the target tag names now, if it exists. */
  existing?: string;
}

export interface CopyPlan extends ResolvedCopy {
  /** What the target tag is to name: the upstream manifest, or the index narrowed to the platforms asked for. */
  wanted: { digest: string; mediaType: string };
  action: 'current' | 'copy';
  /** Manifests already in hand from planning (narrowed indexes, the upstream top), by digest. */
  manifests: ReadonlyMap<string, FetchedManifest>;
}

export interface CopyPlanOptions {
  /** e.g. ["linux/amd64", "linux/arm64"]; unset copies every platform and keeps the digest. */
  platforms?: string[];
  /**
   * The digest an earlier run narrowed this upstream digest to for these platforms (a mirror lock
   * records it): when the target already names it, the plan is "current" without reading a manifest.
   */
  knownNarrowedDigest?: string;
}

const defaultBlobRetry: RetryPolicy = { ...defaultRetryPolicy, attempts: 4 };

/**
 * Copies an image with everything it references, bytes unchanged: an index's children (every
 * platform, attestations too) before the index, blobs before their manifest, and the tag last,
 * so the target tag never names an image that is not complete. Blobs the target has are
 * skipped, blobs on the same registry are mounted, the rest streamed.
 */
export async function copyImage(source: ImageLocation, target: ImageLocation, options: CopyImageOptions = {}): Promise<CopyImageResult> {
  return executeCopyPlan(await planCopy(await resolveCopy(source, target), options), options);
}

/** Both HEADs at once; a missing source is an error, a missing target tag is not. */
export async function resolveCopy(source: ImageLocation, target: ImageLocation): Promise<ResolvedCopy> {
  if (isDigestReference(target.reference)) throw new ImageTargetError(`copy target ${target.store.description} needs a tag, not a digest`);
  const [upstream, existing] = await settleAll([source.store.headManifest(source.reference), target.store.headManifest(target.reference)] as const);
  if (!upstream) throw new ManifestNotFoundError(`${source.store.description}:${source.reference}`);
  return { source, target, upstream, existing: existing?.digest };
}

/**
 * Decides what the target tag is to name and whether it already does; reads source manifests only
 * to narrow an index whose narrowed digest is not known yet. Writes nothing: a dry run is this.
 */
export async function planCopy(resolved: ResolvedCopy, options: CopyPlanOptions = {}): Promise<CopyPlan> {
  const { upstream, existing, source } = resolved;
  const decide = (wanted: { digest: string; mediaType: string }, manifests: ReadonlyMap<string, FetchedManifest> = new Map()): CopyPlan => ({
    ...resolved,
    wanted,
    action: existing === wanted.digest ? 'current' : 'copy',
    manifests,
  });
  if (!options.platforms) return decide(upstream);
  if (options.knownNarrowedDigest && existing === options.knownNarrowedDigest) {
    return decide({ digest: options.knownNarrowedDigest, mediaType: upstream.mediaType });
  }
  const describe = (digest: string) => `${source.store.description}@${digest}`;
  const top = await source.store.getManifest(upstream.digest);
  const narrowed = await narrowToPlatforms(top, options.platforms, (digest) => source.store.getManifest(digest), describe);
  return decide(narrowed.top, new Map([[top.digest, top], ...narrowed.rewritten]));
}

/** Carries a plan out; a "current" plan costs nothing more. */
export async function executeCopyPlan(plan: CopyPlan, options: CopyExecutionOptions = {}): Promise<CopyImageResult> {
  return new ImageCopy(plan, options).run();
}

class ImageCopy {
  private readonly source: ImageStore;
  private readonly target: ImageStore;
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
    private readonly plan: CopyPlan,
    private readonly options: CopyExecutionOptions,
  ) {
    this.source = plan.source.store;
    this.target = plan.target.store;
    this.limiter = options.limiter ?? new HostLimiter(4);
    this.transfers = options.transfers ?? new BlobTransfers();
    this.blobRetry = { ...defaultBlobRetry, ...options.blobRetry };
  }

  async run(): Promise<CopyImageResult> {
    const { wanted } = this.plan;
    if (this.plan.action === 'current') return { ...this.result, ...wanted, status: 'current' };
    const top = await this.manifest(wanted.digest);
    await this.copyReferencedContent(top);
    await this.target.putManifest(this.plan.target.reference, top);
    this.result.manifestsCopied++;
    return { ...this.result, ...wanted, status: 'copied' };
  }

  /** A narrowed index exists only in the plan; everything else is read from the source. */
  private manifest(digest: string): Promise<FetchedManifest> {
    const inHand = this.plan.manifests.get(digest);
    return inHand ? Promise.resolve(inHand) : this.source.getManifest(digest);
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
    const manifest = await this.manifest(child.digest);
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
    // The source still counts the bytes: a short or long blob fails there, before the target waits for more.
    const content = await this.source.openBlob(blob, { verify: false });
    try {
      await this.target.writeBlob(blob, content);
    } catch (error) {
      // When the download broke off or came in another size, say so rather than blame the upload it starved.
      const fromSource = content instanceof SourceBlobStream ? content : undefined;
      if (fromSource?.sourceFault) throw fromSource.sourceFault;
      // Every byte went out, as many as the blob has, and their digest is wrong: the source's copy is corrupt.
      if (error instanceof UploadDigestRejectedError && fromSource?.complete) {
        throw new SourceBlobCorruptError(this.source.description, blob.digest, blob.size, this.target.description, `HTTP ${error.status} ${error.detail}`);
      }
      // As before: a streamed upload that broke off left its own network error on the content (an
      // AbortError only says the reader stopped early, e.g. a chunked upload whose session was lost).
      if (content.errored && content.errored.name !== 'AbortError') throw content.errored;
      throw error;
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

/**
 * Failures a retry cannot fix: the blob or manifest is not there, we may not read or write it,
 * the target will not store it (a body limit, a quota, no such owner), or the source answered cleanly with a
 * blob of the wrong size or bytes (it would again).
 */
function isPermanent(error: unknown): boolean {
  return error instanceof RegistryAuthError || error instanceof BlobNotFoundError || error instanceof ManifestNotFoundError || error instanceof UnsupportedMediaTypeError || error instanceof NoMatchingPlatformError ||
    error instanceof SourceBlobSizeError || error instanceof SourceBlobCorruptError || error instanceof UploadRefusedError || error instanceof OwnerNotFoundError;
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
