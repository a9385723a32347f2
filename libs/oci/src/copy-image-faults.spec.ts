import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { skopeoManifestDigest, startFaultProxy, startRegistry, writeSyntheticImages, type FaultProxy, type TestRegistry, type WrittenImage } from '@changemaker/testing';
import { copyImage } from './copy-image';
import { ImageReference } from './image-reference';
import { OwnerNotFoundError, UploadRefusedError } from './oci-errors';
import { RegistryClient } from './registry-client';
import { registryImage } from './registry-repository';

const MiB = 1024 * 1024;
const fastRetry = { baseDelayMs: 5, maxDelayMs: 50 };

describe('copyImage through a faulty network', () => {
  let source: TestRegistry;
  let target: TestRegistry;
  let dir: string;
  let image: WrittenImage;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-faults-'));
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    [image] = await writeSyntheticImages(dir, [
      { tag: 'app', kind: 'oci-index', platforms: ['linux/amd64', 'linux/arm64'], layers: [{ seed: 'shared', size: 3 * MiB }, { seed: 'own-{platform}', size: 2 * MiB }], attestation: true },
    ]);
    await execa('skopeo', ['copy', '--all', '--preserve-digests', '--quiet', '--dest-tls-verify=false', `oci:${dir}:app`, `docker://${source.host}/upstream/app:1`]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  let proxies: FaultProxy[] = [];
  afterEach(async () => {
    await Promise.all(proxies.map((proxy) => proxy.stop()));
    proxies = [];
  });

  async function proxied(upstream: TestRegistry): Promise<FaultProxy> {
    const proxy = await startFaultProxy(upstream.host);
    proxies.push(proxy);
    return proxy;
  }

  /** The tag PUT must come after every other manifest PUT, and only once every upload succeeded. */
  function expectTagWrittenLast(proxy: FaultProxy, tag: string) {
    const manifestPuts = proxy.requests.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'));
    const tagPuts = manifestPuts.filter((r) => r.path.endsWith(`/manifests/${tag}`));
    expect(tagPuts.filter((r) => r.status === 201)).toHaveLength(1);
    expect(manifestPuts.at(-1)?.path.endsWith(`/manifests/${tag}`)).toBe(true);
  }

  it('completes despite dropped connections, 500s and cuts mid-blob, and 429 with Retry-After', async () => {
    const from = await proxied(source);
    const to = await proxied(target);
    from.addFault({ method: 'GET', path: /\/blobs\//, fault: { kind: 'drop-mid-body', afterBytes: MiB }, times: 2 });
    from.addFault({ method: 'GET', path: /\/blobs\//, fault: { kind: 'status', status: 500 }, times: 1 });
    to.addFault({ method: 'HEAD', path: /\/blobs\//, fault: { kind: 'drop' }, times: 2 });
    to.addFault({ method: 'PUT', path: /\/blobs\/uploads\//, fault: { kind: 'drop-mid-body', afterBytes: 512 * 1024 }, times: 2 });
    to.addFault({ method: 'POST', path: /\/blobs\/uploads\//, fault: { kind: 'status', status: 503 }, times: 2 });
    to.addFault({ method: 'PUT', path: /\/manifests\//, fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } }, times: 1 });
    const client = new RegistryClient({ credentials: {}, retry: fastRetry });
    const started = Date.now();
    const result = await copyImage(
      registryImage(client, ImageReference.parse(`${from.host}/upstream/app:1`)),
      registryImage(client, ImageReference.parse(`${to.host}/mirror/app:1`)),
      { blobRetry: fastRetry },
    );
    expect(result).toMatchObject({ status: 'copied', digest: image.digest });
    // Every injected fault was met, and Retry-After was waited out.
    expect(from.requests.filter((r) => r.fault)).toHaveLength(3);
    expect(to.requests.filter((r) => r.fault)).toHaveLength(7);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expectTagWrittenLast(to, '1');
    expect(await skopeoManifestDigest(`docker://${target.host}/mirror/app:1`)).toBe(image.digest);
  });

  it('completes chunked uploads whose chunks meet 500s and cut connections', async () => {
    const to = await proxied(target);
    to.addFault({ method: 'PATCH', fault: { kind: 'status', status: 500 }, times: 2 });
    to.addFault({ method: 'PATCH', fault: { kind: 'drop-mid-body', afterBytes: 100_000 }, times: 1 });
    const client = new RegistryClient({ credentials: {}, retry: fastRetry, chunkSize: MiB });
    const result = await copyImage(
      registryImage(client, ImageReference.parse(`${source.host}/upstream/app:1`)),
      registryImage(client, ImageReference.parse(`${to.host}/chunked/app:1`)),
      { blobRetry: fastRetry },
    );
    expect(result).toMatchObject({ status: 'copied', digest: image.digest });
    expectTagWrittenLast(to, '1');
  });

  it('fails at once, saying what to raise, when a proxy in front of the registry refuses a blob as too large', async () => {
    // nginx in front of Gitea answers 413 with its own page to a body over client_max_body_size.
    const to = await proxied(target);
    const page = '<html><head><title>413 Request Entity Too Large</title></head></html>';
    to.addFault({ method: 'PUT', path: /\/blobs\/uploads\//, fault: { kind: 'status', status: 413, headers: { 'content-type': 'text/html' }, body: page }, times: 1000 });
    const client = new RegistryClient({ credentials: {}, retry: fastRetry });
    const copy = copyImage(
      registryImage(client, ImageReference.parse(`${source.host}/upstream/app:1`)),
      registryImage(client, ImageReference.parse(`${to.host}/limited/app:1`)),
      { blobRetry: fastRetry },
    );
    await expect(copy).rejects.toThrow(UploadRefusedError);
    await expect(copy).rejects.toThrow(/HTTP 413\): a body of \d+ bytes is over a limit: .*client_max_body_size.*--chunk-size\)$/);
    await expect(copy).rejects.not.toThrow(/<html>/);
    // No blob is sent twice: the same body would meet the same limit.
    const uploads = to.requests.filter((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/')).map((r) => new URL(r.path, 'http://x').searchParams.get('digest'));
    expect(uploads.length).toBeGreaterThan(0);
    expect(new Set(uploads).size).toBe(uploads.length);
    expect(to.requests.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'))).toEqual([]);
  });

  it.each([
    ["a bare 403 is Gitea's package quota or size limit", '', "no reason given, which is how Gitea and Forgejo refuse a write over the owner's package quota or size limit"],
    ["a 403 with a reason gives that reason (a quota it explains)", JSON.stringify({ errors: [{ code: 'DENIED', message: 'quota exceeded for owner quota' }] }), 'DENIED: quota exceeded for owner quota'],
  ])('says a 403 to a write is the refused write, not a login problem: %s', async (_case, body, reason) => {
    const to = await proxied(target);
    to.addFault({ method: 'PUT', path: /\/manifests\/1$/, fault: { kind: 'status', status: 403, body }, times: 1000 });
    const client = new RegistryClient({ credentials: {}, retry: fastRetry });
    const copy = copyImage(
      registryImage(client, ImageReference.parse(`${source.host}/upstream/app:1`)),
      registryImage(client, ImageReference.parse(`${to.host}/quota/app:1`)),
      { blobRetry: fastRetry },
    );
    await expect(copy).rejects.toThrow(UploadRefusedError);
    await expect(copy).rejects.toThrow(`registry ${to.host} refused PUT /v2/quota/app/manifests/1 (HTTP 403): ${reason}`);
    expect(to.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/manifests/1'))).toHaveLength(1);
  });

  it('says an image name needs its Gitea owner when a write meets a 404 that is no registry error', async () => {
    // Gitea reads the first part of the name as a user or organisation and answers a 404 page when there is none.
    const to = await proxied(target);
    to.addFault({ method: 'POST', path: /^\/v2\/changemaker-api\/blobs\/uploads\//, fault: { kind: 'status', status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not found.' }, times: 1000 });
    const client = new RegistryClient({ credentials: {}, retry: fastRetry });
    const retries: string[] = [];
    const copy = copyImage(
      registryImage(client, ImageReference.parse(`${source.host}/upstream/app:1`)),
      registryImage(client, ImageReference.parse(`${to.host}/changemaker-api:1`)),
      { blobRetry: fastRetry, onBlobRetry: (notice) => retries.push(notice.reason) },
    );
    await expect(copy).rejects.toThrow(OwnerNotFoundError);
    await expect(copy).rejects.toThrow(
      `registry ${to.host} answered HTTP 404 to start blob upload in changemaker-api, as Gitea and Forgejo do when an image name does not start with an existing user or organisation ` +
        `(this one has no owner part); set GITEA_REGISTRY (or --registry) to the host and owner, e.g. ${to.host}/admin`,
    );
    // Not retried: no blob was started over.
    expect(to.requests.filter((r) => r.method === 'POST').length).toBeGreaterThan(0);
    expect(retries).toEqual([]);
  });

  it('leaves no tag when a blob cannot be uploaded at all', async () => {
    const to = await proxied(target);
    to.addFault({ method: 'PUT', path: /\/blobs\/uploads\//, fault: { kind: 'status', status: 500 }, times: 1000 });
    const client = new RegistryClient({ credentials: {}, retry: { ...fastRetry, attempts: 2 } });
    await expect(
      copyImage(
        registryImage(client, ImageReference.parse(`${source.host}/upstream/app:1`)),
        registryImage(client, ImageReference.parse(`${to.host}/broken/app:1`)),
        { blobRetry: { ...fastRetry, attempts: 2 } },
      ),
    ).rejects.toThrow(/HTTP 500/);
    expect(to.requests.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'))).toEqual([]);
    expect(await client.headManifest(ImageReference.parse(`${target.host}/broken/app:1`))).toBeUndefined();
  });
});
