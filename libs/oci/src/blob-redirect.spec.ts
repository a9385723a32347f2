import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFaultProxy, startRegistry, writeSyntheticImages, type FaultProxy, type TestRegistry, type WrittenImage } from '@changemaker/testing';
import { copyImage } from './copy-image';
import { ImageReference } from './image-reference';
import { ociLayoutImage } from './oci-layout';
import { RegistryClient } from './registry-client';
import { registryImage } from './registry-repository';

const credentials = { username: 'reader', password: 'redirect-test-secret' };

describe('blob downloads redirected to storage', () => {
  let secured: TestRegistry;
  let storage: TestRegistry;
  let registryProxy: FaultProxy;
  let storageProxy: FaultProxy;
  let dir: string;
  let image: WrittenImage;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-redirect-'));
    [secured, storage] = await Promise.all([startRegistry({ credentials }), startRegistry()]);
    [image] = await writeSyntheticImages(join(dir, 'layout'), [{ tag: 'app', kind: 'oci-index', platforms: ['linux/amd64', 'linux/arm64'], layers: [{ seed: 'r', size: 300_000 }] }]);
    // The same blobs in both: the authenticated registry and the anonymous "storage" it redirects to.
    await copyImage(ociLayoutImage(join(dir, 'layout'), 'app'), registryImage(new RegistryClient({ credentials: { [secured.host]: credentials } }), ImageReference.parse(`${secured.host}/team/app:1`)));
    await copyImage(ociLayoutImage(join(dir, 'layout'), 'app'), registryImage(new RegistryClient({ credentials: {} }), ImageReference.parse(`${storage.host}/team/app:1`)));
    storageProxy = await startFaultProxy(storage.host);
    registryProxy = await startFaultProxy(secured.host, [{ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'redirect', toHost: storageProxy.host }, times: 1000 }]);
  });
  afterAll(async () => {
    await Promise.all([registryProxy?.stop(), storageProxy?.stop()]);
    await Promise.all([secured?.stop(), storage?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('follows the redirect and never sends the registry credentials to the storage host', async () => {
    const client = new RegistryClient({ credentials: { [registryProxy.host]: credentials } });
    const result = await copyImage(registryImage(client, ImageReference.parse(`${registryProxy.host}/team/app:1`)), ociLayoutImage(join(dir, 'out'), 'app'));
    expect(result).toMatchObject({ status: 'copied', digest: image.digest });
    const redirected = registryProxy.requests.filter((r) => r.status === 307);
    expect(redirected.length).toBeGreaterThan(0);
    expect(redirected.every((r) => r.authorized)).toBe(true);
    expect(storageProxy.requests).toHaveLength(redirected.length);
    expect(storageProxy.requests.some((r) => r.authorized)).toBe(false);
  });

  it('follows a manifest GET redirected to storage, as Gitea and Forgejo answer with SERVE_DIRECT on', async () => {
    // Gitea's serveBlob answers manifests and blobs alike with a 307 to a signed storage URL.
    const gitea = await startFaultProxy(secured.host, [{ method: 'GET', path: /\/(manifests|blobs)\//, fault: { kind: 'redirect', toHost: storageProxy.host }, times: 1000 }]);
    storageProxy.requests.length = 0;
    try {
      const client = new RegistryClient({ credentials: { [gitea.host]: credentials } });
      const ref = ImageReference.parse(`${gitea.host}/team/app:1`);
      const manifest = await client.getManifest(ref);
      expect(manifest.digest).toBe(image.digest);
      const result = await copyImage(registryImage(client, ref), ociLayoutImage(join(dir, 'out-gitea'), 'app'));
      expect(result).toMatchObject({ status: 'copied', digest: image.digest });
      expect(gitea.requests.filter((r) => r.status === 307 && r.path.includes('/manifests/')).length).toBeGreaterThan(1);
      expect(storageProxy.requests.some((r) => r.path.includes('/manifests/'))).toBe(true);
      expect(storageProxy.requests.some((r) => r.authorized)).toBe(false);
    } finally {
      await gitea.stop();
    }
  });
});
