import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import {
  skopeoManifestDigest,
  startFaultProxy,
  startRegistry,
  writeSyntheticImages,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultRule,
  type TestRegistry,
} from '@changemaker/testing';
import { copyImage, type BlobRetryNotice } from './copy-image';
import { sha256Digest } from './digest';
import { ImageReference } from './image-reference';
import { ChunkUploadError, UploadSessionLostError } from './oci-errors';
import type { BlobDescriptor } from './descriptors';
import { RegistryClient } from './registry-client';
import { registryImage } from './registry-repository';

const KiB = 1024;
const chunkSize = 256 * KiB;
const fastRetry = { baseDelayMs: 5, maxDelayMs: 50 };
const credentials = { username: 'uploader', password: 'chunk-secret-4711' };
// Five chunks, the last one short.
const content = randomBytes(4 * chunkSize + 1000);
const blob: BlobDescriptor = { digest: sha256Digest(content), size: content.length };

/** The blob as a stream of small pieces, as a download would feed it. */
function contentStream(): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < content.length; at += 64 * KiB) pieces.push(content.subarray(at, at + 64 * KiB));
  return Readable.from(pieces);
}

function span(start: number, end: number): string {
  return `${start}-${end - 1}`;
}

const patches = (proxy: FaultProxy) => proxy.requests.filter((r) => r.method === 'PATCH');
const statusQueries = (proxy: FaultProxy) => proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/uploads/'));
/** How often the blob's first chunk went out: more than once means its upload started over. */
const firstChunksSent = (proxy: FaultProxy) => patches(proxy).filter((r) => r.contentRange === span(0, chunkSize)).length;

describe('chunked blob uploads resume a broken chunk', () => {
  let registry: TestRegistry;
  let proxies: FaultProxy[] = [];
  let clients: RegistryClient[] = [];

  beforeAll(async () => {
    registry = await startRegistry({ credentials });
  });
  afterAll(() => registry?.stop());
  afterEach(async () => {
    await Promise.all([...proxies.map((proxy) => proxy.stop()), ...clients.map((client) => client.close())]);
    proxies = [];
    clients = [];
  });

  async function proxied(rules: FaultRule[], options?: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = await startFaultProxy(registry.host, rules, options);
    proxies.push(proxy);
    return proxy;
  }

  function chunkedClient(proxy: FaultProxy, attempts?: number): RegistryClient {
    const client = new RegistryClient({ credentials: { [proxy.host]: credentials }, retry: { ...fastRetry, attempts }, chunkSize });
    clients.push(client);
    return client;
  }

  /** Reads the blob straight from the registry, around the proxy and libs/oci, and hashes it. */
  async function storedDigest(repository: string): Promise<string> {
    const authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    const response = await fetch(`${registry.url}/v2/${repository}/blobs/${blob.digest}`, { headers: { authorization } });
    expect(response.status).toBe(200);
    return `sha256:${createHash('sha256').update(Buffer.from(await response.arrayBuffer())).digest('hex')}`;
  }

  it('sends only the rest of a chunk the registry took part of before the connection broke', async () => {
    const proxy = await proxied([{ method: 'PATCH', fault: { kind: 'partial-chunk', bytes: 100_000 }, times: 1, contentRange: span(2 * chunkSize, 3 * chunkSize) }], { serverSideUploadState: true });

    await chunkedClient(proxy).uploadBlob({ registry: proxy.host, repository: 'resume/part' }, blob, contentStream());

    expect(await storedDigest('resume/part')).toBe(blob.digest);
    const ranges = patches(proxy).map((r) => r.contentRange);
    // The third chunk broke after 100 000 bytes reached the registry; the client asked, then sent the rest only.
    expect(ranges).toEqual([
      span(0, chunkSize),
      span(chunkSize, 2 * chunkSize),
      span(2 * chunkSize, 3 * chunkSize),
      span(2 * chunkSize + 100_000, 3 * chunkSize),
      span(3 * chunkSize, 4 * chunkSize),
      span(4 * chunkSize, content.length),
    ]);
    expect(statusQueries(proxy).map((r) => r.status)).toEqual([204]);
    const sentBytes = patches(proxy).reduce((sum, r) => sum + r.bodyBytes, 0);
    expect(sentBytes).toBeLessThan(content.length + chunkSize);
    expect(firstChunksSent(proxy)).toBe(1);
  });

  it('asks the registry where to go on after a chunk answered 503, and resends that chunk only', async () => {
    const proxy = await proxied([{ method: 'PATCH', fault: { kind: 'status', status: 503 }, times: 1, contentRange: span(chunkSize, 2 * chunkSize) }]);

    await chunkedClient(proxy).uploadBlob({ registry: proxy.host, repository: 'resume/503' }, blob, contentStream());

    expect(await storedDigest('resume/503')).toBe(blob.digest);
    const ranges = patches(proxy).map((r) => r.contentRange);
    expect(ranges.filter((range) => range === span(chunkSize, 2 * chunkSize))).toHaveLength(2);
    expect(firstChunksSent(proxy)).toBe(1);
    expect(statusQueries(proxy).map((r) => r.status)).toEqual([204]);
  });

  it('keeps credentials out of every upload URL and sends them as a header on each request', async () => {
    const proxy = await proxied([{ method: 'PATCH', fault: { kind: 'status', status: 503 }, times: 1, contentRange: span(chunkSize, 2 * chunkSize) }]);

    await chunkedClient(proxy).uploadBlob({ registry: proxy.host, repository: 'resume/auth' }, blob, contentStream());

    const uploadRequests = proxy.requests.filter((r) => r.path.includes('/blobs/uploads/') && r.status !== 401);
    expect(uploadRequests.length).toBeGreaterThan(6);
    expect(uploadRequests.every((r) => r.authorized)).toBe(true);
    expect(proxy.requests.filter((r) => r.path.includes(credentials.password) || r.path.includes(credentials.username))).toEqual([]);
  });

  describe("against Gitea's upload status, which says 0-<bytes held>, one more than the spec", () => {
    // The CNCF registry says 0-<last byte held>; Gitea and Forgejo 0-<bytes held> (0-0 when empty),
    // and refuse a chunk whose Content-Range does not start at the bytes held, which 2.8 does not check.
    const giteaStatus: FaultRule = {
      method: 'GET',
      path: /\/blobs\/uploads\//,
      fault: { kind: 'rewrite-header', header: 'range', rewrite: (range) => (range === '0-0' ? range : `0-${Number(range?.split('-')[1]) + 1}`) },
      times: 1000,
    };

    it('resends a chunk nothing of which arrived, after the spec reading is refused', async () => {
      const proxy = await proxied([
        { method: 'PATCH', fault: { kind: 'status', status: 503 }, times: 1, contentRange: span(chunkSize, 2 * chunkSize) },
        { method: 'PATCH', fault: { kind: 'status', status: 416 }, times: 1000, contentRange: span(chunkSize + 1, 2 * chunkSize) },
        giteaStatus,
      ], { serverSideUploadState: true });

      await chunkedClient(proxy, 4).uploadBlob({ registry: proxy.host, repository: 'gitea/none' }, blob, contentStream());

      expect(await storedDigest('gitea/none')).toBe(blob.digest);
      expect(patches(proxy).map((r) => [r.contentRange, r.status])).toEqual([
        [span(0, chunkSize), 202],
        [span(chunkSize, 2 * chunkSize), 503],
        [span(chunkSize + 1, 2 * chunkSize), 416],
        [span(chunkSize, 2 * chunkSize), 202],
        [span(2 * chunkSize, 3 * chunkSize), 202],
        [span(3 * chunkSize, 4 * chunkSize), 202],
        [span(4 * chunkSize, content.length), 202],
      ]);
      expect(firstChunksSent(proxy)).toBe(1);
    });

    it('goes on after a chunk that arrived whole though its answer was lost', async () => {
      const proxy = await proxied([{ method: 'PATCH', fault: { kind: 'partial-chunk', bytes: chunkSize }, times: 1, contentRange: span(chunkSize, 2 * chunkSize) }, giteaStatus], { serverSideUploadState: true });

      await chunkedClient(proxy, 4).uploadBlob({ registry: proxy.host, repository: 'gitea/whole' }, blob, contentStream());

      expect(await storedDigest('gitea/whole')).toBe(blob.digest);
      expect(patches(proxy).map((r) => r.contentRange)).toEqual([
        span(0, chunkSize),
        span(chunkSize, 2 * chunkSize),
        span(2 * chunkSize, 3 * chunkSize),
        span(3 * chunkSize, 4 * chunkSize),
        span(4 * chunkSize, content.length),
      ]);
      expect(statusQueries(proxy).map((r) => r.status)).toEqual([204]);
    });
  });

  it('says the session is gone and the blob must start over when the registry dropped it after a cut chunk', async () => {
    // The CNCF registry keeps the bytes of a chunk cut mid-body, then refuses the session as out of step.
    const proxy = await proxied([{ method: 'PATCH', fault: { kind: 'drop-mid-body', afterBytes: 100_000 }, times: 1, contentRange: span(chunkSize, 2 * chunkSize) }]);

    const upload = chunkedClient(proxy).uploadBlob({ registry: proxy.host, repository: 'resume/lost' }, blob, contentStream());

    await expect(upload).rejects.toThrow(UploadSessionLostError);
    await expect(upload).rejects.toThrow(new RegExp(`broke off after ${chunkSize} bytes and cannot resume .*HTTP 404 BLOB_UPLOAD_INVALID.*uploaded again from its start`));
    expect(statusQueries(proxy).map((r) => r.status)).toEqual([404]);
  });

  it('fails a chunk that keeps failing after the policy attempts, saying where it stopped', async () => {
    const proxy = await proxied([{ method: 'PATCH', fault: { kind: 'status', status: 503 }, times: 1000, contentRange: span(3 * chunkSize, 4 * chunkSize) }]);

    const upload = chunkedClient(proxy, 3).uploadBlob({ registry: proxy.host, repository: 'resume/down' }, blob, contentStream());

    await expect(upload).rejects.toThrow(ChunkUploadError);
    await expect(upload).rejects.toThrow(new RegExp(`stopped at byte ${3 * chunkSize}, its chunk failed 3 times \\(last: HTTP 503 INJECTED.*check the network`));
    expect(patches(proxy)).toHaveLength(3 + 3);
  });

  describe('inside copyImage', () => {
    let source: TestRegistry;
    let dir: string;
    let imageDigest: string;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cm-resume-'));
      source = await startRegistry();
      const [image] = await writeSyntheticImages(dir, [{ tag: 'app', kind: 'single', platforms: ['linux/amd64'], layers: [{ seed: 'resume', size: 3 * chunkSize + 5 }] }]);
      imageDigest = image.digest;
      await execa('skopeo', ['copy', '--preserve-digests', '--quiet', '--dest-tls-verify=false', `oci:${dir}:app`, `docker://${source.host}/upstream/app:1`]);
    });
    afterAll(async () => {
      await source?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('starts the blob over when the session is gone, and the copy completes', async () => {
      const proxy = await proxied([{ method: 'PATCH', fault: { kind: 'drop-mid-body', afterBytes: 100_000 }, times: 1, contentRange: span(chunkSize, 2 * chunkSize) }]);
      const client = new RegistryClient({ credentials: { [proxy.host]: credentials }, retry: fastRetry, chunkSize });
      clients.push(client);

      const retries: BlobRetryNotice[] = [];
      const result = await copyImage(
        registryImage(client, ImageReference.parse(`${source.host}/upstream/app:1`)),
        registryImage(client, ImageReference.parse(`${proxy.host}/mirror/app:1`)),
        { blobRetry: fastRetry, onBlobRetry: (notice) => retries.push(notice) },
      );

      expect(result).toMatchObject({ status: 'copied', digest: imageDigest });
      // The restart is reported, not silent.
      expect(retries.map(({ blob, attempt, reason }) => ({ size: blob.size, attempt, reason }))).toEqual([
        { size: 3 * chunkSize + 5, attempt: 2, reason: expect.stringMatching(/upload session/i) },
      ]);
      expect(await skopeoManifestDigest(`docker://${registry.host}/mirror/app:1`, { registry: registry.host, credentials })).toBe(imageDigest);
      expect(statusQueries(proxy).map((r) => r.status)).toEqual([404]);
      expect(firstChunksSent(proxy)).toBe(2);
    });
  });
});
