import type { Readable } from 'node:stream';
import { ImageReference } from './image-reference';
import { isDigestReference, type BlobReadOptions, type ImageLocation, type ImageStore } from './image-store';
import type { BlobDescriptor, FetchedManifest, ManifestDescriptor } from './descriptors';
import type { RegistryClient } from './registry-client';

/** Repositories on one registry host known to hold a blob, so later copies mount it instead of uploading it again. */
export class BlobSightings {
  private readonly seen = new Map<string, Set<string>>();

  record(registry: string, repository: string, digest: string): void {
    const key = `${registry} ${digest}`;
    const repositories = this.seen.get(key) ?? new Set<string>();
    repositories.add(repository);
    this.seen.set(key, repositories);
  }

  repositoriesHolding(registry: string, digest: string): string[] {
    return [...(this.seen.get(`${registry} ${digest}`) ?? [])];
  }
}

/** A repository in a registry (e.g. 127.0.0.1:5000/team/app) as an ImageStore. */
export class RegistryRepository implements ImageStore {
  readonly description: string;
  readonly limitKey: string;

  constructor(
    private readonly client: RegistryClient,
    readonly registry: string,
    readonly repository: string,
    private readonly sightings: BlobSightings = new BlobSightings(),
  ) {
    this.description = `${registry}/${repository}`;
    this.limitKey = registry;
  }

  headManifest(reference: string): Promise<ManifestDescriptor | undefined> {
    return this.client.headManifest(this.at(reference));
  }

  getManifest(reference: string): Promise<FetchedManifest> {
    return this.client.getManifest(this.at(reference));
  }

  async putManifest(reference: string, manifest: FetchedManifest): Promise<void> {
    await this.client.putManifest(this.at(reference), manifest.bytes, manifest.mediaType);
  }

  async hasBlob(blob: BlobDescriptor): Promise<boolean> {
    const present = (await this.client.headBlob(this, blob.digest)) !== undefined;
    if (present) this.sightings.record(this.registry, this.repository, blob.digest);
    return present;
  }

  openBlob(blob: BlobDescriptor, options?: BlobReadOptions): Promise<Readable> {
    return this.client.openBlob(this, blob, options);
  }

  async writeBlob(blob: BlobDescriptor, content: Readable): Promise<void> {
    await this.client.uploadBlob(this, blob, content);
    this.sightings.record(this.registry, this.repository, blob.digest);
  }

  /** Mounts from the source repository when it is on this registry, else from where we saw it before. */
  async mountBlob(blob: BlobDescriptor, source: ImageStore): Promise<boolean> {
    const candidates = this.sightings.repositoriesHolding(this.registry, blob.digest);
    if (source instanceof RegistryRepository && source.registry === this.registry) candidates.unshift(source.repository);
    for (const from of new Set(candidates)) {
      if (from === this.repository) continue;
      if (await this.client.mountBlob(this, blob.digest, from)) {
        this.sightings.record(this.registry, this.repository, blob.digest);
        return true;
      }
    }
    return false;
  }

  private at(reference: string): ImageReference {
    const base = ImageReference.of(this.description, this.registry, this.repository);
    return isDigestReference(reference) ? base.withDigest(reference) : base.withTag(reference);
  }
}

/** The image an ImageReference names, in a registry, as a copy source or target. */
export function registryImage(client: RegistryClient, ref: ImageReference, sightings?: BlobSightings): ImageLocation {
  return { store: new RegistryRepository(client, ref.registry, ref.repository, sightings), reference: ref.manifestReference };
}
