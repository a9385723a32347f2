import { cp, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { skopeoManifestDigest, startFaultProxy, startRegistry, writeSyntheticImages, type TestRegistry, type WrittenImage } from '@changemaker/testing';
import { copyImage } from './copy-image';
import { ImageReference } from './image-reference';
import { mediaTypes } from './media-types';
import { ociLayoutImage } from './oci-layout';
import { DigestMismatchError, ManifestNotFoundError } from './oci-errors';
import { RegistryClient } from './registry-client';
import type { RegistryRequestEvent } from './registry-transport';
import { BlobSightings, registryImage } from './registry-repository';
import { BlobTransfers } from './blob-transfers';
import { HostLimiter } from './host-limiter';

const credentials = { username: 'mirror', password: 'target-registry-secret' };
const MiB = 1024 * 1024;

describe('copyImage between real registries', () => {
  let source: TestRegistry;
  let target: TestRegistry;
  let layoutDir: string;
  let images: Record<string, WrittenImage>;
  let events: RegistryRequestEvent[];
  let client: RegistryClient;
  const sightings = new BlobSightings();

  beforeAll(async () => {
    layoutDir = await mkdtemp(join(tmpdir(), 'cm-copy-'));
    [source, target] = await Promise.all([startRegistry(), startRegistry({ credentials })]);
    const written = await writeSyntheticImages(join(layoutDir, 'built'), [
      { tag: 'multi', kind: 'oci-index', platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'], layers: [{ seed: 'base', size: 2 * MiB }, { seed: 'app-{platform}', size: 300_000 }], attestation: true },
      { tag: 'dockerlist', kind: 'docker-list', platforms: ['linux/amd64', 'linux/arm64'], layers: [{ seed: 'base', size: 2 * MiB }, { seed: 'tool-{platform}', size: 100_000 }] },
      { tag: 'big', kind: 'single', platforms: ['linux/amd64'], layers: [{ seed: 'base', size: 2 * MiB }, { seed: 'big', size: 50 * MiB }] },
    ]);
    images = Object.fromEntries(written.map((image) => [image.tag, image]));
    // skopeo, not our code, puts the OCI fixtures into the source registry. Its oci: transport
    // does not read Docker manifest lists, so that one goes through OciLayout, checked by skopeo.
    for (const image of written) {
      const destination = `${source.host}/upstream/${image.tag}:1.0`;
      if (image.mediaType === mediaTypes.dockerManifestList) {
        await copyImage(ociLayoutImage(join(layoutDir, 'built'), image.tag), registryImage(new RegistryClient({ credentials: {} }), ImageReference.parse(destination)));
      } else {
        await execa('skopeo', ['copy', '--all', '--preserve-digests', '--quiet', '--dest-tls-verify=false', `oci:${join(layoutDir, 'built')}:${image.tag}`, `docker://${destination}`]);
      }
      expect(await skopeoManifestDigest(`docker://${destination}`)).toBe(image.digest);
    }
    events = [];
    client = new RegistryClient({ credentials: { [target.host]: credentials }, onRequest: (event) => events.push(event) });
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    await rm(layoutDir, { recursive: true, force: true });
  });

  const login = () => ({ registry: target.host, credentials });
  const src = (name: string) => registryImage(client, ImageReference.parse(`${source.host}/upstream/${name}:1.0`), sightings);
  const dst = (name: string, tag = '1.0') => registryImage(client, ImageReference.parse(`${target.host}/mirror/${name}:${tag}`), sightings);

  it('copies an OCI index with every platform and its attestation, digest unchanged', async () => {
    const result = await copyImage(src('multi'), dst('multi'));
    expect(result).toMatchObject({ status: 'copied', digest: images.multi.digest, mediaType: mediaTypes.ociIndex });
    // three platforms and the attestation, then the index itself
    expect(result.manifestsCopied).toBe(5);
    const targetRef = ImageReference.parse(`${target.host}/mirror/multi:1.0`);
    expect((await client.headManifest(targetRef))?.digest).toBe(images.multi.digest);
    for (const child of images.multi.childDigests) {
      expect((await client.headManifest(targetRef.withDigest(child)))?.digest).toBe(child);
    }
    expect(await skopeoManifestDigest(`docker://${targetRef}`, login())).toBe(images.multi.digest);
    expect(result.bytesCopied).toBe(images.multi.blobBytes);
  });

  it('copies a Docker manifest list byte for byte and mounts the layer it shares with an earlier copy', async () => {
    const result = await copyImage(src('dockerlist'), dst('dockerlist'));
    expect(result).toMatchObject({ status: 'copied', digest: images.dockerlist.digest, mediaType: mediaTypes.dockerManifestList });
    expect(result.blobsMounted).toBeGreaterThanOrEqual(1);
    expect(await skopeoManifestDigest(`docker://${target.host}/mirror/dockerlist:1.0`, login())).toBe(images.dockerlist.digest);
  });

  it('copies a 50 MB layer in chunks when a chunk size is set', async () => {
    const chunkEvents: RegistryRequestEvent[] = [];
    const chunked = new RegistryClient({ credentials: { [target.host]: credentials }, chunkSize: 8 * MiB, onRequest: (e) => chunkEvents.push(e) });
    const result = await copyImage(
      registryImage(chunked, ImageReference.parse(`${source.host}/upstream/big:1.0`)),
      registryImage(chunked, ImageReference.parse(`${target.host}/chunked/big:1.0`)),
    );
    expect(result).toMatchObject({ status: 'copied', digest: images.big.digest });
    expect(chunkEvents.filter((e) => e.method === 'PATCH' && e.status === 202).length).toBeGreaterThanOrEqual(7);
    expect(await skopeoManifestDigest(`docker://${target.host}/chunked/big:1.0`, login())).toBe(images.big.digest);
  });

  it('re-runs with HEAD requests only and copies 0 bytes', async () => {
    await copyImage(src('big'), dst('big'));
    events.length = 0;
    for (const name of ['multi', 'dockerlist', 'big']) {
      const result = await copyImage(src(name), dst(name));
      expect(result).toMatchObject({ status: 'current', bytesCopied: 0, digest: images[name].digest });
    }
    expect(events.length).toBeGreaterThan(0);
    expect(events.filter((e) => e.method !== 'HEAD')).toEqual([]);
  });

  it('mounts every blob when source and target share a registry', async () => {
    const result = await copyImage(src('multi'), registryImage(client, ImageReference.parse(`${source.host}/copies/multi:1.0`)));
    expect(result).toMatchObject({ status: 'copied', bytesCopied: 0, blobsCopied: 0, digest: images.multi.digest });
    expect(result.blobsMounted).toBeGreaterThan(0);
  });

  it('uploads instead when a registry refuses to mount, 16 blobs at a time downloading and uploading over one connection pool', async () => {
    const dir = join(layoutDir, 'many-layers');
    const layers = Array.from({ length: 24 }, (_, i) => ({ seed: `layer-${i}`, size: 64 * 1024 }));
    const [many] = await writeSyntheticImages(dir, [{ tag: 'many', kind: 'single', platforms: ['linux/amd64'], layers }]);
    const refusing = await startFaultProxy(source.host, [{ method: 'POST', path: /mount=/, fault: { kind: 'status', status: 202 }, times: 1000 }]);
    const viaProxy = new RegistryClient({ credentials: {} });
    try {
      const upstream = registryImage(viaProxy, ImageReference.parse(`${refusing.host}/upstream/many:1`));
      await copyImage(ociLayoutImage(dir, 'many'), upstream);
      const result = await copyImage(upstream, registryImage(viaProxy, ImageReference.parse(`${refusing.host}/copies/many:1`)), { limiter: new HostLimiter(16) });
      expect(result).toMatchObject({ status: 'copied', digest: many.digest, blobsMounted: 0, blobsCopied: layers.length + 1 });
    } finally {
      await viaProxy.close();
      await refusing.stop();
    }
  }, 20_000);

  it('writes an OCI layout that skopeo reads back with the same digest, and reads one as a source', async () => {
    const out = join(layoutDir, 'exported');
    const exported = await copyImage(src('multi'), ociLayoutImage(out, 'v1'));
    expect(exported.digest).toBe(images.multi.digest);
    expect(await skopeoManifestDigest(`oci:${out}:v1`)).toBe(images.multi.digest);
    const imported = await copyImage(ociLayoutImage(out, 'v1'), dst('from-layout'));
    expect(imported).toMatchObject({ status: 'copied', digest: images.multi.digest });
    expect(await copyImage(ociLayoutImage(out, 'v1'), ociLayoutImage(out, 'v1'))).toMatchObject({ status: 'current' });
  });

  it('narrows an index to the platforms asked for, keeping attestations of kept platforms only', async () => {
    const result = await copyImage(src('multi'), dst('only-amd64'), { platforms: ['linux/amd64'] });
    expect(result.digest).not.toBe(images.multi.digest);
    const copied = await client.getManifest(ImageReference.parse(`${target.host}/mirror/only-amd64:1.0`));
    const children = (JSON.parse(copied.bytes.toString()) as { manifests: Array<{ platform: { architecture: string } }> }).manifests;
    expect(children.map((c) => c.platform.architecture)).toEqual(['amd64', 'unknown']);
    const armOnly = await copyImage(src('multi'), dst('only-arm'), { platforms: ['linux/arm'] });
    const armChildren = JSON.parse((await client.getManifest(ImageReference.parse(`${target.host}/mirror/only-arm:1.0`))).bytes.toString()).manifests;
    expect(armOnly.status).toBe('copied');
    expect(armChildren).toHaveLength(1);
  });

  it('uploads a layer shared by images copied at the same time once, and mounts it for the others', async () => {
    const shared = { transfers: new BlobTransfers() };
    const seen = new BlobSightings();
    const into = (name: string) => registryImage(client, ImageReference.parse(`${target.host}/together/${name}:1.0`), seen);
    const from = (name: string) => registryImage(client, ImageReference.parse(`${source.host}/upstream/${name}:1.0`), seen);
    const results = await Promise.all(['multi', 'dockerlist', 'big'].map((name) => copyImage(from(name), into(name), shared)));
    const baseLayer = 2 * MiB;
    const distinctBytes = images.multi.blobBytes + images.dockerlist.blobBytes + images.big.blobBytes - 2 * baseLayer;
    expect(results.reduce((sum, r) => sum + r.bytesCopied, 0)).toBe(distinctBytes);
    expect(results.reduce((sum, r) => sum + r.blobsMounted, 0)).toBe(2);
  });

  it('refuses a source blob whose bytes do not match its digest, in a registry and in a layout, leaving no tag', async () => {
    const corrupt = join(layoutDir, 'corrupt');
    await cp(join(layoutDir, 'built'), corrupt, { recursive: true });
    const manifest = JSON.parse((await readFile(join(corrupt, 'blobs/sha256', images.big.digest.slice(7)))).toString()) as { layers: Array<{ digest: string }> };
    const layerFile = join(corrupt, 'blobs/sha256', manifest.layers[1].digest.slice(7));
    const handle = await open(layerFile, 'r+');
    await handle.write(Buffer.from('corrupted'), 0, 9, 1000);
    await handle.close();
    const fastRetry = { blobRetry: { attempts: 2, baseDelayMs: 1 } };
    // Without this run's sightings, so the good copy of the layer cannot simply be mounted.
    const unseen = registryImage(client, ImageReference.parse(`${target.host}/mirror/corrupt:1.0`));
    await expect(copyImage(ociLayoutImage(corrupt, 'big'), unseen, fastRetry)).rejects.toThrow(/DIGEST_INVALID|digest/i);
    expect(await client.headManifest(ImageReference.parse(`${target.host}/mirror/corrupt:1.0`))).toBeUndefined();
    await expect(copyImage(ociLayoutImage(corrupt, 'big'), ociLayoutImage(join(layoutDir, 'corrupt-copy'), 'big'), fastRetry)).rejects.toThrow(DigestMismatchError);
    expect(await ociLayoutImage(join(layoutDir, 'corrupt-copy'), 'big').store.headManifest('big')).toBeUndefined();
  });

  it('reports an image the source does not have, and leaves no tag behind', async () => {
    await expect(copyImage(src('absent'), dst('absent'))).rejects.toThrow(ManifestNotFoundError);
    expect(await client.headManifest(ImageReference.parse(`${target.host}/mirror/absent:1.0`))).toBeUndefined();
  });
});
