import type { Readable } from 'node:stream';
import type { BlobDescriptor, FetchedManifest, ManifestDescriptor } from './descriptors';

/**
 * Somewhere images can be read from and written to: a repository in a registry, or an OCI
 * image layout directory. copyImage works between any two.
 */
export interface ImageStore {
  /** For messages, e.g. 127.0.0.1:5000/team/app or oci:/tmp/layout. */
  readonly description: string;
  /** Stores sharing a key share a concurrency limit (a registry host, a directory). */
  readonly limitKey: string;
  /** Resolves a tag or digest without reading the manifest body; undefined when absent. */
  headManifest(reference: string): Promise<ManifestDescriptor | undefined>;
  getManifest(reference: string): Promise<FetchedManifest>;
  /** Stores the exact bytes under a tag, or by digest when `reference` is the digest. */
  putManifest(reference: string, manifest: FetchedManifest): Promise<void>;
  hasBlob(blob: BlobDescriptor): Promise<boolean>;
  /**
   * The blob's bytes. The stream fails unless exactly `blob.size` bytes come (a different size is
   * a SourceBlobSizeError, a broken read a BlobDownloadError, both naming this store), and it
   * checks the digest as well unless `verify` is false, for a caller that hands the bytes to
   * writeBlob, which checks them anyway.
   */
  openBlob(blob: BlobDescriptor, options?: BlobReadOptions): Promise<Readable>;
  /** Commits the blob only if its bytes have the blob's digest (a registry checks on commit). */
  writeBlob(blob: BlobDescriptor, content: Readable): Promise<void>;
  /** Links a blob without moving its bytes when the store can (registry cross-repo mount). */
  mountBlob?(blob: BlobDescriptor, source: ImageStore): Promise<boolean>;
}

export interface BlobReadOptions {
  verify?: boolean;
}

/** One image: a store and the tag or digest naming it there. */
export interface ImageLocation {
  store: ImageStore;
  reference: string;
}

export function isDigestReference(reference: string): boolean {
  return reference.startsWith('sha256:');
}
