import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { digestHex, sha256Digest, verifyDigest } from './digest';
import { HashingStream } from './hashing-stream';
import { isDigestReference, type BlobReadOptions, type ImageLocation, type ImageStore } from './image-store';
import { withLayoutLock, type LayoutLockOptions } from './layout-lock';
import { mediaTypes } from './media-types';
import { BlobNotFoundError, ManifestNotFoundError, OciLayoutError, SourceBlobSizeError } from './oci-errors';
import { SourceBlobStream } from './source-blob-stream';
import type { BlobDescriptor, FetchedManifest, ManifestDescriptor } from './descriptors';

export type { LayoutLockOptions } from './layout-lock';

const refNameAnnotation = 'org.opencontainers.image.ref.name';

interface LayoutIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Array<ManifestDescriptor & { annotations?: Record<string, string> }>;
}

/**
 * An OCI image layout directory (oci-layout, index.json, blobs/sha256/...) as an ImageStore:
 * the format of `skopeo copy oci:<dir>:<tag>` and of bundles for air-gapped servers. Tags are
 * index.json entries annotated with org.opencontainers.image.ref.name. Blobs are content-addressed
 * and written by rename, so only index.json updates need the cross-process lock.
 */
export class OciLayout implements ImageStore {
  readonly description: string;
  readonly limitKey: string;
  /**
   * index.json is rewritten whole. Updates from this instance are queued, so its own copies wait
   * in line rather than polling the lock file that guards against other processes.
   */
  private indexUpdates: Promise<unknown> = Promise.resolve();

  constructor(readonly directory: string, private readonly lockOptions: LayoutLockOptions = {}) {
    this.description = `oci:${directory}`;
    this.limitKey = this.description;
  }

  async headManifest(reference: string): Promise<ManifestDescriptor | undefined> {
    if (!isDigestReference(reference)) {
      const entry = (await this.readIndex()).manifests.find((m) => m.annotations?.[refNameAnnotation] === reference);
      return entry && { digest: entry.digest, mediaType: entry.mediaType, size: entry.size };
    }
    const size = await this.blobSize(reference);
    if (size === undefined) return undefined;
    const bytes = await readFile(this.blobPath(reference));
    return { digest: reference, mediaType: declaredMediaType(bytes), size };
  }

  async getManifest(reference: string): Promise<FetchedManifest> {
    const descriptor = await this.headManifest(reference);
    if (!descriptor) throw new ManifestNotFoundError(`${this.description}:${reference}`);
    const bytes = await readFile(this.blobPath(descriptor.digest));
    verifyDigest(`${this.description}@${descriptor.digest}`, bytes, descriptor.digest);
    return { bytes, mediaType: descriptor.mediaType, digest: descriptor.digest };
  }

  async putManifest(reference: string, manifest: FetchedManifest): Promise<void> {
    verifyDigest(`manifest for ${this.description}:${reference}`, manifest.bytes, manifest.digest);
    await this.ensureLayout();
    await this.writeBlobBytes(manifest.digest, manifest.bytes);
    if (isDigestReference(reference)) return;
    const descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length };
    await this.updateIndex((index) => ({
      ...index,
      manifests: [
        ...index.manifests.filter((m) => m.annotations?.[refNameAnnotation] !== reference),
        { ...descriptor, annotations: { [refNameAnnotation]: reference } },
      ],
    }));
  }

  async hasBlob(blob: BlobDescriptor): Promise<boolean> {
    return (await this.blobSize(blob.digest)) === blob.size;
  }

  async openBlob(blob: BlobDescriptor, options: BlobReadOptions = {}): Promise<Readable> {
    const size = await this.blobSize(blob.digest);
    if (size === undefined) throw new BlobNotFoundError(this.description, blob.digest);
    if (size !== blob.size) throw new SourceBlobSizeError(this.description, blob.digest, blob.size, `a file of ${size} bytes`);
    return SourceBlobStream.of(createReadStream(this.blobPath(blob.digest)), this.description, blob, { verify: options.verify !== false });
  }

  /** Written to a temporary file and renamed once verified, so a blob file is always whole. */
  async writeBlob(blob: BlobDescriptor, content: Readable): Promise<void> {
    await this.ensureLayout();
    const temporary = join(this.directory, 'blobs', 'sha256', `.tmp-${randomUUID()}`);
    try {
      await pipeline(content, new HashingStream(`blob ${blob.digest}`, blob.digest, blob.size), createWriteStream(temporary));
      await rename(temporary, this.blobPath(blob.digest));
    } finally {
      await rm(temporary, { force: true });
    }
  }

  private async writeBlobBytes(digest: string, bytes: Buffer): Promise<void> {
    if ((await this.blobSize(digest)) === bytes.length) return;
    const temporary = join(this.directory, 'blobs', 'sha256', `.tmp-${randomUUID()}`);
    await writeFile(temporary, bytes);
    await rename(temporary, this.blobPath(digest));
  }

  private blobPath(digest: string): string {
    return join(this.directory, 'blobs', 'sha256', digestHex(digest));
  }

  private async blobSize(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch {
      return undefined;
    }
  }

  private async ensureLayout(): Promise<void> {
    await mkdir(join(this.directory, 'blobs', 'sha256'), { recursive: true });
    const marker = join(this.directory, 'oci-layout');
    if ((await stat(marker).catch(() => undefined)) === undefined) {
      await writeFile(marker, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    }
  }

  private async readIndex(): Promise<LayoutIndex> {
    let text: string;
    try {
      text = await readFile(join(this.directory, 'index.json'), 'utf8');
    } catch {
      return { schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: [] };
    }
    try {
      const index = JSON.parse(text) as LayoutIndex;
      if (!Array.isArray(index.manifests)) throw new Error('no manifests array');
      return index;
    } catch (error) {
      throw new OciLayoutError(`${join(this.directory, 'index.json')} is not an OCI image index: ${(error as Error).message}`);
    }
  }

  private updateIndex(change: (index: LayoutIndex) => LayoutIndex): Promise<void> {
    const update = this.indexUpdates.then(() =>
      withLayoutLock(this.directory, () => this.rewriteIndex(change), this.lockOptions),
    );
    this.indexUpdates = update.catch(() => undefined);
    return update;
  }

  /** Readers see the old index or the new one, never half of one: it is replaced by a rename. */
  private async rewriteIndex(change: (index: LayoutIndex) => LayoutIndex): Promise<void> {
    const next = change(await this.readIndex());
    const temporary = join(this.directory, `.index-${randomUUID()}.json`);
    try {
      await writeFile(temporary, `${JSON.stringify(next, null, 2)}\n`);
      await rename(temporary, join(this.directory, 'index.json'));
    } finally {
      await rm(temporary, { force: true });
    }
  }
}

/** The image tagged `tag` (or with that digest) in an OCI layout directory. */
export function ociLayoutImage(directory: string, reference: string): ImageLocation {
  return { store: new OciLayout(directory), reference };
}

function declaredMediaType(bytes: Buffer): string {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
    return parsed.mediaType ?? (parsed.manifests ? mediaTypes.ociIndex : mediaTypes.ociManifest);
  } catch {
    throw new OciLayoutError(`blob ${sha256Digest(bytes)} is not a JSON manifest`);
  }
}
