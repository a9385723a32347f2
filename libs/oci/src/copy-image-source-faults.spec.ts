import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFaultProxy, startRegistry, writeSyntheticImages, type TestRegistry } from '@changemaker/testing';
import { copyImage, type BlobRetryNotice } from './copy-image';
import { ImageReference } from './image-reference';
import { mirrorImages } from './mirror-images';
import type { MirrorImage } from './mirror-list';
import { ociLayoutImage } from './oci-layout';
import { BlobDownloadError, DigestMismatchError, RegistryUnreachableError, SourceBlobCorruptError, SourceBlobSizeError } from './oci-errors';
import { RegistryClient } from './registry-client';
import { registryImage } from './registry-repository';

const MiB = 1024 * 1024;
/** The one layer the tests damage; no other blob of the images has this size. */
const layerSize = 3 * MiB;
const fastRetry = { baseDelayMs: 5, maxDelayMs: 50 };
const blobRetry = { ...fastRetry, attempts: 3 };

/** How a blob answer is served instead of as the registry sent it. */
type Rewrite = (body: Buffer) => { body: Buffer; contentLength: boolean };

interface BlobRewriter {
  host: string;
  /** GETs of the damaged blob that reached the rewriter. */
  rewritten: number;
  stop(): Promise<void>;
}

/**
 * A loopback HTTP server in front of a real registry: every request passes through unchanged,
 * except the GET answers of the 3 MiB layer, which are read whole from the registry and served
 * cleanly (status 200, a complete HTTP message) with the bytes `rewrite` gives.
 */
async function startBlobRewriter(upstreamHost: string, rewrite: Rewrite): Promise<BlobRewriter> {
  const [hostname, port] = upstreamHost.split(':');
  const state = { rewritten: 0 };
  const server: Server = createServer((req, res) => {
    const upstream = httpRequest({ hostname, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (answer: IncomingMessage) => {
      const damaged = req.method === 'GET' && answer.statusCode === 200 && /\/blobs\/sha256:/.test(req.url ?? '') && Number(answer.headers['content-length']) === layerSize;
      if (!damaged) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      state.rewritten++;
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const served = rewrite(Buffer.concat(chunks));
        const headers = { ...answer.headers };
        delete headers['content-length'];
        if (served.contentLength) headers['content-length'] = String(served.body.length);
        res.writeHead(200, headers);
        res.end(served.body);
      });
    });
    upstream.on('error', () => res.socket?.destroy());
    req.pipe(upstream);
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const host = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    host,
    get rewritten() {
      return state.rewritten;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const short = (contentLength: boolean): Rewrite => (body) => ({ body: body.subarray(0, 2_000_000), contentLength });
const long = (contentLength: boolean): Rewrite => (body) => ({ body: Buffer.concat([body, Buffer.alloc(1000, 7)]), contentLength });
const corrupt: Rewrite = (body) => {
  const flipped = Buffer.from(body);
  for (let at = 1000; at < 1008; at++) flipped[at] ^= 0xff;
  return { body: flipped, contentLength: true };
};

describe('copyImage from a source that serves a blob wrong', () => {
  let source: TestRegistry;
  let target: TestRegistry;
  let dir: string;
  let servers: Array<{ stop(): Promise<void> }> = [];
  let clients: RegistryClient[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-source-faults-'));
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    const written = await writeSyntheticImages(dir, [
      { tag: 'app', kind: 'single', platforms: ['linux/amd64'], layers: [{ seed: 'big', size: layerSize }, { seed: 'small', size: 100_000 }] },
      { tag: 'other', kind: 'single', platforms: ['linux/amd64'], layers: [{ seed: 'other', size: 50_000 }] },
    ]);
    const pusher = new RegistryClient({ credentials: {} });
    for (const image of written) await copyImage(ociLayoutImage(dir, image.tag), registryImage(pusher, ImageReference.parse(`${source.host}/upstream/${image.tag}:1`)));
    await pusher.close();
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await Promise.all([...servers.map((server) => server.stop()), ...clients.map((client) => client.close())]);
    servers = [];
    clients = [];
  });

  async function rewriter(rewrite: Rewrite): Promise<BlobRewriter> {
    const server = await startBlobRewriter(source.host, rewrite);
    servers.push(server);
    return server;
  }

  function newClient(chunkSize?: number): RegistryClient {
    const client = new RegistryClient({ credentials: {}, retry: { ...fastRetry, attempts: 3 }, chunkSize });
    clients.push(client);
    return client;
  }

  async function copyFrom(sourceHost: string, namespace: string, options: { chunkSize?: number; retries?: BlobRetryNotice[] } = {}) {
    const client = newClient(options.chunkSize);
    const copying = copyImage(
      registryImage(client, ImageReference.parse(`${sourceHost}/upstream/app:1`)),
      registryImage(client, ImageReference.parse(`${target.host}/${namespace}/app:1`)),
      { blobRetry, onBlobRetry: (notice) => options.retries?.push(notice) },
    );
    return { copying, client };
  }

  async function tagAbsent(namespace: string): Promise<void> {
    const client = newClient();
    expect(await client.headManifest(ImageReference.parse(`${target.host}/${namespace}/app:1`))).toBeUndefined();
  }

  describe.each([
    { upload: 'one streamed PUT', chunkSize: undefined },
    { upload: 'PATCH chunks', chunkSize: MiB },
  ])('uploading in $upload', ({ chunkSize }) => {
    it.each([
      { answer: 'a short body with a Content-Length saying so', rewrite: short(true), sent: 'Content-Length 2000000' },
      { answer: 'a short body in chunked encoding', rewrite: short(false), sent: '2000000 bytes' },
      { answer: 'a long body in chunked encoding', rewrite: long(false), sent: 'at least \\d+ bytes' },
    ])('fails at once, blaming the source, on $answer', async ({ rewrite, sent }) => {
      const from = await rewriter(rewrite);
      const namespace = `short-${chunkSize ?? 'put'}-${sent.replace(/[^a-z0-9]+/gi, '-')}`.toLowerCase();
      const retries: BlobRetryNotice[] = [];
      const { copying } = await copyFrom(from.host, namespace, { chunkSize, retries });
      const error = await copying.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SourceBlobSizeError);
      expect(error).not.toBeInstanceOf(RegistryUnreachableError);
      const message = (error as Error).message;
      expect(message).toContain(`source ${from.host}/upstream/app served blob sha256:`);
      expect(message).toMatch(new RegExp(`with ${sent} where its manifest says ${layerSize} bytes`));
      expect(message).not.toContain(target.host);
      // Asked once: a clean answer of the wrong size is not asked for again.
      expect(from.rewritten).toBe(1);
      expect(retries).toEqual([]);
      await tagAbsent(namespace);
    });

    it('reports a blob whose bytes are corrupt as the source\'s, after one download', async () => {
      const from = await rewriter(corrupt);
      const namespace = `corrupt-${chunkSize ?? 'put'}`;
      const retries: BlobRetryNotice[] = [];
      const { copying } = await copyFrom(from.host, namespace, { chunkSize, retries });
      const error = await copying.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SourceBlobCorruptError);
      const message = (error as Error).message;
      expect(message).toMatch(new RegExp(`^source ${from.host}/upstream/app served blob sha256:[0-9a-f]{64} corrupt: all ${layerSize} bytes arrived`));
      expect(message).toContain('DIGEST_INVALID');
      expect(from.rewritten).toBe(1);
      expect(retries).toEqual([]);
      await tagAbsent(namespace);
    });
  });

  it('fails a verified blob stream whose bytes or size are wrong, naming the source', async () => {
    const client = newClient();
    const ref = ImageReference.parse(`${source.host}/upstream/app:1`);
    const manifest = JSON.parse((await client.getManifest(ref)).bytes.toString()) as { layers: Array<{ digest: string; size: number }> };
    const layer = manifest.layers.find((candidate) => candidate.size === layerSize)!;
    const read = async (host: string) => {
      const stream = await client.openBlob({ registry: host, repository: 'upstream/app' }, layer);
      for await (const chunk of stream) void chunk;
    };
    const corrupted = await rewriter(corrupt);
    const error = await read(corrupted.host).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect((error as Error).message).toContain(`digest mismatch for blob ${layer.digest} from ${corrupted.host}/upstream/app: expected ${layer.digest}, got sha256:`);
    const shortened = await rewriter(short(false));
    await expect(read(shortened.host)).rejects.toThrow(SourceBlobSizeError);
    await expect(read(source.host)).resolves.toBeUndefined();
  });

  it('names the blob, the source and the bytes that arrived when every download of it is cut', async () => {
    const from = await startFaultProxy(source.host);
    servers.push(from);
    from.addFault({ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'drop-mid-body', afterBytes: MiB }, times: 1000 });
    const retries: BlobRetryNotice[] = [];
    const { copying } = await copyFrom(from.host, 'cut', { retries });
    const error = await copying.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BlobDownloadError);
    expect((error as Error).message).toMatch(
      new RegExp(`^download of blob sha256:[0-9a-f]{64} from ${from.host}/upstream/app broke off after \\d+ of ${layerSize} bytes: the connection closed before the end of the body`),
    );
    expect((error as BlobDownloadError).received).toBeGreaterThan(0);
    expect((error as BlobDownloadError).received).toBeLessThanOrEqual(MiB);
    // A cut is worth another try, unlike a clean answer of the wrong size.
    expect(retries.length).toBe(blobRetry.attempts - 1);
    expect(retries[0].reason).toContain('broke off after');
    await tagAbsent('cut');
  });

  it('does not take the target for down when the source serves a blob short: the next image is copied', async () => {
    const from = await rewriter(short(true));
    const client = newClient();
    const pin = (name: string, line: number): MirrorImage => ({ group: 'core', source: ImageReference.parse(`${from.host}/upstream/${name}:1`), target: `${name}:1`, file: 'list.json', line });
    const outcomes = await mirrorImages([pin('app', 1), pin('other', 2)], { client, targetRegistry: `${target.host}/mirrored`, concurrency: 1 });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['failed', 'copied']);
    expect(outcomes[0].error).toContain(`source ${from.host}/upstream/app served blob sha256:`);
    expect(outcomes[0].error).not.toMatch(/unreachable|not tried/);
    expect(from.rewritten).toBe(1);
    expect(await client.headManifest(ImageReference.parse(`${target.host}/mirrored/app:1`))).toBeUndefined();
    expect(await client.headManifest(ImageReference.parse(`${target.host}/mirrored/other:1`))).toBeDefined();
  });
});
