import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { skopeoManifestDigest, startFaultProxy, startRegistry, type TestRegistry } from '@changemaker/testing';
import { sha256Digest } from './digest';
import { ImageReference } from './image-reference';
import { mediaTypes } from './media-types';
import { DigestMismatchError, ManifestNotFoundError, ManifestTooLargeError, RegistryAuthError, RegistryResponseError, RegistryUnreachableError, SourceBlobSizeError } from './oci-errors';
import { RegistryClient } from './registry-client';
import type { RegistryRequestEvent } from './registry-transport';

const credentials = { username: 'ci', password: 'correct-horse-battery-staple' };

function blob(bytes: Buffer) {
  return { bytes, descriptor: { digest: sha256Digest(bytes), size: bytes.length } };
}

/** A tiny image pushed through the client itself; skopeo checks the result independently. */
async function pushSmallImage(client: RegistryClient, ref: ImageReference, layerBytes = randomBytes(4096)) {
  const config = blob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
  const layer = blob(layerBytes);
  for (const b of [config, layer]) await client.uploadBlob(ref, b.descriptor, Readable.from([b.bytes]));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.ociManifest,
      config: { mediaType: mediaTypes.ociConfig, ...config.descriptor },
      layers: [{ mediaType: mediaTypes.ociLayer, ...layer.descriptor }],
    }),
  );
  const digest = await client.putManifest(ref, manifest, mediaTypes.ociManifest);
  return { manifest, digest, layer };
}

describe('RegistryClient against a real registry', () => {
  let anonymous: TestRegistry;
  let secured: TestRegistry;
  beforeAll(async () => {
    [anonymous, secured] = await Promise.all([startRegistry(), startRegistry({ credentials })]);
  });
  afterAll(async () => {
    await Promise.all([anonymous?.stop(), secured?.stop()]);
  });

  it('puts, heads and gets a manifest byte for byte, as skopeo also sees it', async () => {
    const client = new RegistryClient({ credentials: {} });
    const ref = ImageReference.parse(`${anonymous.host}/team/app:1.0`);
    const { manifest, digest } = await pushSmallImage(client, ref);
    expect(digest).toBe(sha256Digest(manifest));
    expect(await client.headManifest(ref)).toEqual({ digest, mediaType: mediaTypes.ociManifest, size: manifest.length });
    const fetched = await client.getManifest(ref);
    expect(fetched.bytes.equals(manifest)).toBe(true);
    expect(fetched.digest).toBe(digest);
    expect(await client.getManifest(ref.withDigest(digest))).toEqual(fetched);
    expect(await skopeoManifestDigest(`docker://${ref}`)).toBe(digest);
  });

  it('refuses a HEAD whose Docker-Content-Digest names no sha256 digest, which a copy would fetch by tag, unchecked', async () => {
    const client = new RegistryClient({ credentials: {} });
    const ref = ImageReference.parse(`${anonymous.host}/team/app:1.0`);
    await pushSmallImage(client, ref);
    const proxy = await startFaultProxy(anonymous.host, [{ method: 'HEAD', fault: { kind: 'rewrite-header', header: 'docker-content-digest', rewrite: () => 'latest' }, times: 1 }]);
    try {
      await expect(client.headManifest(ImageReference.parse(`${proxy.host}/team/app:1.0`))).rejects.toThrow(
        new DigestMismatchError(`HEAD manifest ${proxy.host}/team/app:1.0`, 'a sha256 digest in Docker-Content-Digest', 'latest'),
      );
    } finally {
      await proxy.stop();
    }
  });

  it("names a proxy's HTML error page by its title, in one line, and passes no control character on", async () => {
    const page = '<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n</body>\r\n</html>\r\n';
    const plain = 'denied by policy\n\u001b[2J\u001b[31mcall the admin\n';
    const proxy = await startFaultProxy(anonymous.host, [
      { method: 'GET', fault: { kind: 'status', status: 400, headers: { 'content-type': 'text/html' }, body: page }, times: 1 },
      { method: 'GET', fault: { kind: 'status', status: 400, headers: { 'content-type': 'text/plain' }, body: plain }, times: 1 },
    ]);
    try {
      const client = new RegistryClient({ credentials: {} });
      const ref = ImageReference.parse(`${proxy.host}/team/app:1.0`);
      await expect(client.getManifest(ref)).rejects.toThrow(new RegistryResponseError(proxy.host, `GET manifest ${ref}`, 400, '403 Forbidden'));
      await expect(client.getManifest(ref)).rejects.toThrow(new RegistryResponseError(proxy.host, `GET manifest ${ref}`, 400, 'denied by policy [2J [31mcall the admin'));
    } finally {
      await proxy.stop();
    }
  });

  it('sends HEAD requests in a row over the connection it already has open', async () => {
    const proxy = await startFaultProxy(anonymous.host);
    const client = new RegistryClient({ credentials: {} });
    try {
      const ref = ImageReference.parse(`${proxy.host}/team/keep-alive:1`);
      const { digest, layer } = await pushSmallImage(client, ref);
      const opened = proxy.connections;
      for (let i = 0; i < 5; i++) {
        expect((await client.headManifest(ref))?.digest).toBe(digest);
        expect(await client.headBlob(ref, layer.descriptor.digest)).toBe(layer.bytes.length);
      }
      expect(await client.headManifest(ref.withTag('absent'))).toBeUndefined();
      expect(proxy.requests.filter((r) => r.method === 'HEAD')).toHaveLength(11);
      expect(proxy.connections).toBe(opened);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });

  it('answers undefined for HEAD of a missing tag and ManifestNotFoundError for GET', async () => {
    const client = new RegistryClient({ credentials: {} });
    const ref = ImageReference.parse(`${anonymous.host}/nothing/here:1`);
    expect(await client.headManifest(ref)).toBeUndefined();
    await expect(client.getManifest(ref)).rejects.toThrow(ManifestNotFoundError);
  });

  it('refuses to store bytes under a digest they do not have', async () => {
    const client = new RegistryClient({ credentials: {} });
    const ref = ImageReference.parse(`${anonymous.host}/team/app@sha256:${'0'.repeat(64)}`);
    await expect(client.putManifest(ref, Buffer.from('{}'), mediaTypes.ociManifest)).rejects.toThrow(DigestMismatchError);
  });

  it('streams a blob back and verifies it, and uploads in chunks when asked', async () => {
    const events: RegistryRequestEvent[] = [];
    const client = new RegistryClient({ credentials: {}, chunkSize: 1000, onRequest: (e) => events.push(e) });
    const ref = ImageReference.parse(`${anonymous.host}/team/chunked:1`);
    const layerBytes = randomBytes(4500);
    const { layer } = await pushSmallImage(client, ref, layerBytes);
    // 4500 bytes in 1000-byte chunks: five PATCHes for the layer, one for the config.
    expect(events.filter((e) => e.method === 'PATCH')).toHaveLength(6);
    expect(await client.headBlob(ref, layer.descriptor.digest)).toBe(4500);
    const stream = await client.openBlob(ref, layer.descriptor);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(layerBytes)).toBe(true);
    expect(await client.headBlob(ref, sha256Digest('absent'))).toBeUndefined();
  });

  it('refuses a blob whose Content-Length differs from the size asked for, before reading it', async () => {
    const client = new RegistryClient({ credentials: {} });
    const ref = ImageReference.parse(`${anonymous.host}/team/app:1.0`);
    const { layer } = await pushSmallImage(client, ref);
    const size = layer.descriptor.size;
    await expect(client.openBlob(ref, { ...layer.descriptor, size: size + 1 })).rejects.toThrow(
      new SourceBlobSizeError(`${anonymous.host}/team/app`, layer.descriptor.digest, size + 1, `Content-Length ${size}`),
    );
  });

  it('mounts a blob from another repository on the same registry', async () => {
    const client = new RegistryClient({ credentials: {} });
    const source = ImageReference.parse(`${anonymous.host}/team/source:1`);
    const { layer } = await pushSmallImage(client, source);
    const target = ImageReference.parse(`${anonymous.host}/team/mounted:1`);
    expect(await client.mountBlob(target, layer.descriptor.digest, source.repository)).toBe(true);
    expect(await client.headBlob(target, layer.descriptor.digest)).toBe(layer.descriptor.size);
    expect(await client.mountBlob(target, sha256Digest('absent'), source.repository)).toBe(false);
  });

  it('authenticates with Basic credentials from a per-host map or a resolver', async () => {
    const ref = ImageReference.parse(`${secured.host}/private/app:2`);
    const byMap = new RegistryClient({ credentials: { [secured.host]: credentials } });
    const { digest } = await pushSmallImage(byMap, ref);
    const byResolver = new RegistryClient({ credentials: async (host) => (host === secured.host ? credentials : undefined) });
    expect((await byResolver.headManifest(ref))?.digest).toBe(digest);
    expect(await skopeoManifestDigest(`docker://${ref}`, { registry: secured.host, credentials })).toBe(digest);
  });

  it('names the registry and user on a wrong password, never the password', async () => {
    const wrong = { username: 'ci', password: 'wrong-secret-value' };
    const client = new RegistryClient({ credentials: { [secured.host]: wrong } });
    const error = await client.headManifest(ImageReference.parse(`${secured.host}/private/app:2`)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as Error).message).toContain(secured.host);
    expect((error as Error).message).toContain('"ci"');
    expect((error as Error).message).not.toContain(wrong.password);
    expect((error as Error).stack).not.toContain(wrong.password);
  });

  it('says how to log in when a registry needs credentials and none are known', async () => {
    const client = new RegistryClient({ credentials: {} });
    await expect(client.headManifest(ImageReference.parse(`${secured.host}/private/app:2`))).rejects.toThrow(`docker login ${secured.host}`);
  });

  it('gives up on a registry that does not listen with RegistryUnreachableError', async () => {
    const client = new RegistryClient({ credentials: {}, retry: { attempts: 2, baseDelayMs: 1 } });
    await expect(client.headManifest(ImageReference.parse('127.0.0.1:1/app:1'))).rejects.toThrow(RegistryUnreachableError);
  });
});

/**
 * A server that answers every request with `status` and a body of `totalBytes` spaces, sent in
 * chunks without a Content-Length, as a broken or hostile one might; it counts what it got out.
 */
async function startLongAnswers(status: number, totalBytes: number): Promise<{ host: string; sentBytes: () => number; stop: () => Promise<void> }> {
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const server: Server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': mediaTypes.ociIndex });
    const pump = () => {
      while (sent < totalBytes && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    sentBytes: () => sent,
    stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe('answers too long to be what was asked for', () => {
  const answerBytes = 64 * 1024 * 1024;

  it('stops reading a manifest longer than any registry stores, and says so', async () => {
    const server = await startLongAnswers(200, answerBytes);
    const client = new RegistryClient({ credentials: {} });
    try {
      const error = await client.getManifest(ImageReference.parse(`${server.host}/team/app:1`)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ManifestTooLargeError);
      expect((error as Error).message).toBe(`manifest of ${server.host}/team/app:1 is larger than 4 MiB, more than a registry stores (the distribution registry refuses manifests over 4 MiB); the registry or a proxy in front of it answered something else than a manifest`);
      expect(server.sentBytes()).toBeLessThan(answerBytes / 2);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it('reads no more of an error answer than its reason needs', async () => {
    const server = await startLongAnswers(400, answerBytes);
    const client = new RegistryClient({ credentials: {} });
    try {
      await expect(client.getManifest(ImageReference.parse(`${server.host}/team/app:1`))).rejects.toThrow(RegistryResponseError);
      expect(server.sentBytes()).toBeLessThan(answerBytes / 2);
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
