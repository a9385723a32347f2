import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Same seed and size give the same bytes, which is how images come to share layers. */
export interface SyntheticLayer {
  seed: string;
  size: number;
}

export interface SyntheticImage {
  tag: string;
  /** oci-index: an OCI image index; docker-list: a Docker v2 manifest list; single: one OCI manifest. */
  kind: 'oci-index' | 'docker-list' | 'single';
  /** os/arch[/variant] per child; `single` uses the first. */
  platforms: string[];
  /** Layers of every platform; a `{platform}` in a seed makes that layer differ per platform. */
  layers: SyntheticLayer[];
  /** Adds a BuildKit-style attestation manifest for the first platform. */
  attestation?: boolean;
}

export interface WrittenImage {
  tag: string;
  digest: string;
  mediaType: string;
  /** Every manifest digest below the top one. */
  childDigests: string[];
  /** Distinct blob bytes this image references (config and layers). */
  blobBytes: number;
}

const oci = {
  list: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
};
const docker = {
  list: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
};

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * Writes images into an OCI image layout directory (what `skopeo copy oci:<dir>:<tag>` reads),
 * with deterministic pseudo-random layers streamed to disk, so a 1 GiB layer costs no memory.
 */
export async function writeSyntheticImages(directory: string, images: SyntheticImage[]): Promise<WrittenImage[]> {
  const layout = new LayoutWriter(directory);
  await layout.init();
  const written: WrittenImage[] = [];
  for (const image of images) written.push(await layout.writeImage(image));
  await layout.writeIndex();
  return written;
}

class LayoutWriter {
  private readonly tagged: Descriptor[] = [];
  private readonly blobSizes = new Map<string, number>();

  constructor(private readonly directory: string) {}

  async init(): Promise<void> {
    await mkdir(join(this.directory, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(this.directory, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  }

  async writeImage(image: SyntheticImage): Promise<WrittenImage> {
    const types = image.kind === 'docker-list' ? docker : oci;
    const platforms = image.kind === 'single' ? image.platforms.slice(0, 1) : image.platforms;
    const blobDigests = new Set<string>();
    const children: Descriptor[] = [];
    for (const platform of platforms) {
      const manifest = await this.writePlatformManifest(image, platform, types, blobDigests);
      children.push({ ...manifest, platform: platformObject(platform) });
    }
    if (image.attestation) children.push(await this.writeAttestation(children[0].digest, blobDigests));
    const top = image.kind === 'single'
      ? { mediaType: children[0].mediaType, digest: children[0].digest, size: children[0].size }
      : await this.writeJson(types.list, { schemaVersion: 2, mediaType: types.list, manifests: children });
    this.tagged.push({ ...top, annotations: { 'org.opencontainers.image.ref.name': image.tag } });
    const blobBytes = [...blobDigests].reduce((sum, digest) => sum + (this.blobSizes.get(digest) ?? 0), 0);
    return {
      tag: image.tag,
      digest: top.digest,
      mediaType: top.mediaType,
      childDigests: image.kind === 'single' ? [] : children.map((child) => child.digest),
      blobBytes,
    };
  }

  async writeIndex(): Promise<void> {
    const index = { schemaVersion: 2, mediaType: oci.list, manifests: this.tagged };
    await writeFile(join(this.directory, 'index.json'), JSON.stringify(index));
  }

  private async writePlatformManifest(image: SyntheticImage, platform: string, types: typeof oci, blobDigests: Set<string>): Promise<Descriptor> {
    const layers: Descriptor[] = [];
    for (const layer of image.layers) {
      const seed = layer.seed.replace('{platform}', platform);
      const written = await this.writeStreamBlob(seed, layer.size);
      blobDigests.add(written.digest);
      layers.push({ mediaType: types.layer, ...written });
    }
    const { os, architecture, variant } = platformObject(platform);
    const configJson = { architecture, os, ...(variant ? { variant } : {}), rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) }, config: { Labels: { tag: image.tag } } };
    const config = await this.writeJson(types.config, configJson);
    blobDigests.add(config.digest);
    return this.writeJson(types.manifest, { schemaVersion: 2, mediaType: types.manifest, config, layers });
  }

  /** The shape BuildKit gives provenance: an unknown/unknown manifest pointing at its subject. */
  private async writeAttestation(subject: string, blobDigests: Set<string>): Promise<Descriptor> {
    const statement = await this.writeJson('application/vnd.in-toto+json', { _type: 'https://in-toto.io/Statement/v0.1', subject: [{ digest: { sha256: subject.slice(7) } }] });
    const config = await this.writeJson(oci.config, { architecture: 'unknown', os: 'unknown', rootfs: { type: 'layers', diff_ids: [statement.digest] } });
    blobDigests.add(statement.digest);
    blobDigests.add(config.digest);
    const manifest = await this.writeJson(oci.manifest, {
      schemaVersion: 2,
      mediaType: oci.manifest,
      config,
      layers: [{ ...statement, annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' } }],
    });
    return {
      ...manifest,
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': subject },
    };
  }

  private async writeJson(mediaType: string, value: unknown): Promise<Descriptor> {
    const bytes = Buffer.from(JSON.stringify(value));
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await writeFile(this.blobPath(digest), bytes);
    this.blobSizes.set(digest, bytes.length);
    return { mediaType, digest, size: bytes.length };
  }

  private async writeStreamBlob(seed: string, size: number): Promise<{ digest: string; size: number }> {
    const temporary = join(this.directory, 'blobs', 'sha256', `.tmp-${createHash('md5').update(seed).digest('hex')}`);
    const hash = createHash('sha256');
    const bytes = pseudoRandomStream(seed, size);
    bytes.on('data', (chunk: Buffer) => hash.update(chunk));
    await pipeline(bytes, createWriteStream(temporary));
    const digest = `sha256:${hash.digest('hex')}`;
    await rename(temporary, this.blobPath(digest));
    this.blobSizes.set(digest, size);
    return { digest, size };
  }

  private blobPath(digest: string): string {
    return join(this.directory, 'blobs', 'sha256', digest.slice(7));
  }
}

/** AES-CTR over zeros: fast, incompressible, reproducible from the seed. */
export function pseudoRandomStream(seed: string, size: number): Readable {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const chunkSize = 1024 * 1024;
  let remaining = size;
  return new Readable({
    read() {
      if (remaining === 0) return void this.push(null);
      const length = Math.min(chunkSize, remaining);
      remaining -= length;
      this.push(cipher.update(Buffer.alloc(length)));
    },
  });
}

function platformObject(platform: string): { os: string; architecture: string; variant?: string } {
  const [os, architecture, variant] = platform.split('/');
  return variant ? { os, architecture, variant } : { os, architecture };
}
