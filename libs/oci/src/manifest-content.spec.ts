import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type TestRegistry } from '@changemaker/testing';
import { copyImage } from './copy-image';
import { sha256Digest } from './digest';
import { ImageReference } from './image-reference';
import { mediaTypes } from './media-types';
import { ociLayoutImage } from './oci-layout';
import { InvalidManifestError } from './oci-errors';
import { RegistryClient } from './registry-client';
import { registryImage } from './registry-repository';

/**
 * An OCI layout written by hand, as a forged or broken upstream would serve it: tag `victim` is a
 * plain image, tag `app` an index whose one child names no digest but the tag `victim`.
 */
async function writeForgedLayout(dir: string, child: Record<string, unknown>): Promise<void> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (bytes: Buffer) => {
    const digest = sha256Digest(bytes);
    await writeFile(join(blobs, digest.slice('sha256:'.length)), bytes);
    return { digest, size: bytes.length };
  };
  const config = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
  const victim = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.ociManifest, config: { mediaType: mediaTypes.ociConfig, ...config }, layers: [] }));
  const victimDescriptor = await put(victim);
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: [{ mediaType: mediaTypes.ociManifest, size: victim.length, platform: { os: 'linux', architecture: 'amd64' }, ...child }] }));
  const indexDescriptor = await put(index);
  const tag = (name: string) => ({ 'org.opencontainers.image.ref.name': name });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: mediaTypes.ociManifest, ...victimDescriptor, annotations: tag('victim') },
        { mediaType: mediaTypes.ociIndex, ...indexDescriptor, annotations: tag('app') },
      ],
    }),
  );
}

describe('a source manifest whose descriptors name no digest', () => {
  let registry: TestRegistry;
  let dir: string;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-forged-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['a tag name as a child digest', { digest: 'victim' }, 'manifests[0] names no sha256 digest'],
    ['a child without a size', { digest: sha256Digest('anything'), size: undefined }, 'manifests[0] has no size in bytes'],
  ])('is refused before anything is copied: %s', async (_case, child, reason) => {
    await writeForgedLayout(dir, child);
    const client = new RegistryClient({ credentials: {} });
    try {
      const copying = copyImage(ociLayoutImage(dir, 'app'), registryImage(client, ImageReference.parse(`${registry.host}/mirror/app:1`)));
      await expect(copying).rejects.toThrow(InvalidManifestError);
      await expect(copying).rejects.toThrow(`: ${reason}; the source serves a broken or forged manifest, so nothing of it is copied`);
      // Not fetched by tag from the source and written under that tag in the target.
      expect(await client.headManifest(ImageReference.parse(`${registry.host}/mirror/app:victim`))).toBeUndefined();
      expect(await client.headManifest(ImageReference.parse(`${registry.host}/mirror/app:1`))).toBeUndefined();
    } finally {
      await client.close();
    }
  });
});
