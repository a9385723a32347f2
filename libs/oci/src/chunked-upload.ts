import type { Readable } from 'node:stream';
import type { HttpResponse } from './http-response';
import { ChunkUploadError, RegistryResponseError, RegistryUnreachableError, UploadSessionLostError } from './oci-errors';
import type { BlobDescriptor } from './descriptors';
import { errorDetail, type RegistryRequest, type RegistryTransport } from './registry-transport';
import { isRetryableStatus, retryDelayMs, sleep, type RetryPolicy } from './retry-policy';

export interface UploadSession {
  registry: string;
  /** Token scopes the upload's requests need (push on the target repository). */
  scopes: string[];
  blob: BlobDescriptor;
  /** Where the registry said to send the first chunk; relative or absolute. */
  location: string;
}

/** Why a chunk did not arrive whole, when asking the registry how much did is worth a try. */
interface ChunkFailure {
  cause: string;
  retryAfter?: string;
  /** The registry's status, when it answered: 416 says it holds another offset than the one sent from. */
  status?: number;
}

/**
 * A blob sent in PATCH chunks with Content-Range, for proxies that limit request bodies. When a
 * chunk fails it asks the registry how much of the upload it holds (OCI distribution, "getting
 * upload status") and sends only the rest of that chunk, instead of the whole blob again. Only
 * one chunk is ever in memory, so the rest can only come from it.
 */
export class ChunkedUpload {
  /** Bytes the registry has acknowledged. */
  private offset = 0;
  private location: string;

  constructor(
    private readonly transport: RegistryTransport,
    private readonly retry: RetryPolicy,
    private readonly session: UploadSession,
  ) {
    this.location = session.location;
  }

  /** Sends all of the content; answers the location to commit the digest at. */
  async send(content: Readable, chunkSize: number): Promise<string> {
    for await (const chunk of chunksOf(content, chunkSize)) await this.sendChunk(chunk);
    return this.location;
  }

  private async sendChunk(chunk: Buffer): Promise<void> {
    const start = this.offset;
    const end = start + chunk.length;
    for (let attempt = 1; this.offset < end; attempt++) {
      const failure = await this.patch(chunk.subarray(this.offset - start));
      if (!failure) continue;
      if (attempt >= this.retry.attempts) throw new ChunkUploadError(this.session.registry, this.session.blob.digest, this.offset, attempt, failure.cause);
      await sleep(retryDelayMs(this.retry, attempt, failure.retryAfter));
      await this.resumeAtRegistryOffset(start, end, failure.status === 416 ? this.offset : undefined);
    }
  }

  /** Sends bytes that follow the acknowledged offset; answers why they did not arrive, if they did not. */
  private async patch(bytes: Buffer): Promise<ChunkFailure | undefined> {
    const req = {
      registry: this.session.registry,
      method: 'PATCH' as const,
      path: this.location,
      scopes: this.session.scopes,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(bytes.length),
        'content-range': `${this.offset}-${this.offset + bytes.length - 1}`,
      },
      body: bytes,
      // The registry may have taken part of the bytes: resending them blindly would be refused or appended twice.
      idempotent: false,
    };
    const response = await this.sendOrExplainDrop(req);
    if ('cause' in response) return response;
    if (response.statusCode === 202) {
      await response.discard();
      this.location = uploadLocationOf(this.session.registry, response);
      this.offset += bytes.length;
      return undefined;
    }
    // 416: the registry holds another offset than ours, which its upload status tells.
    if (isRetryableStatus(response.statusCode) || response.statusCode === 416) {
      return { cause: `HTTP ${response.statusCode} ${await errorDetail(response)}`.trim(), retryAfter: response.header('retry-after'), status: response.statusCode };
    }
    if (response.statusCode === 404) throw await this.sessionLost(response);
    throw await this.transport.failure(req, `upload chunk of blob ${this.session.blob.digest} at ${this.offset}`, response);
  }

  private async sendOrExplainDrop(req: RegistryRequest): Promise<HttpResponse | ChunkFailure> {
    try {
      return await this.transport.send(req);
    } catch (error) {
      if (error instanceof RegistryUnreachableError) return { cause: error.message };
      throw error;
    }
  }

  /**
   * Moves to the offset the registry reports holding, which lies within the chunk in memory:
   * bytes before it cannot be sent again, nor can bytes we never sent be trusted. `refused` is
   * an offset the registry just refused (416) to go on from.
   */
  private async resumeAtRegistryOffset(chunkStart: number, chunkEnd: number, refused?: number): Promise<void> {
    const req = { registry: this.session.registry, method: 'GET' as const, path: this.location, scopes: this.session.scopes };
    const response = await this.transport.send(req);
    if (response.statusCode === 404) throw await this.sessionLost(response);
    if (response.statusCode !== 204) throw await this.transport.failure(req, `status of the upload of blob ${this.session.blob.digest}`, response);
    await response.discard();
    const range = response.header('range');
    const held = bytesHeld(range, chunkStart, chunkEnd, refused);
    if (held === undefined) {
      throw new UploadSessionLostError(this.session.registry, this.session.blob.digest, this.offset, `the registry reports holding bytes ${range ?? '(no Range header)'}`);
    }
    this.location = response.header('location') ?? this.location;
    this.offset = held;
  }

  private async sessionLost(response: HttpResponse): Promise<UploadSessionLostError> {
    const detail = await errorDetail(response);
    const reason = `the registry no longer knows the upload session: HTTP ${response.statusCode}${detail ? ` ${detail}` : ''}`;
    return new UploadSessionLostError(this.session.registry, this.session.blob.digest, this.offset, reason);
  }
}

/** The Location an upload answer names for the next request; relative or absolute. */
export function uploadLocationOf(registry: string, response: HttpResponse): string {
  const location = response.header('location');
  if (!location) throw new RegistryResponseError(registry, 'blob upload', response.statusCode, 'no Location header');
  return location;
}

/**
 * How many bytes `Range: 0-<last byte held>` says the registry holds, if that lies within the chunk
 * in memory. The CNCF registry answers 0-0 for an empty session as well, so at the upload's start
 * 0-0 reads as nothing held: a chunk cut after exactly one byte is then resent whole, which the
 * registry refuses rather than corrupt the blob. Gitea and Forgejo answer an upload status with
 * 0-<bytes held>, one more than the spec: that reading is taken only where the spec's cannot be
 * right, past the bytes sent or refused (416) by the registry, and they check each chunk's
 * Content-Range, so a wrong reading is refused there rather than stored.
 */
function bytesHeld(range: string | undefined, chunkStart: number, chunkEnd: number, refused: number | undefined): number | undefined {
  const match = /^(?:bytes=)?0-(\d+)$/.exec(range?.trim() ?? '');
  if (!match) return undefined;
  const last = Number(match[1]);
  const readings = [last === 0 && chunkStart === 0 ? 0 : last + 1, last];
  return readings.find((held) => held >= chunkStart && held <= chunkEnd && held !== refused);
}

/** Regroups a stream into buffers of exactly `size` bytes (the last may be shorter). */
async function* chunksOf(content: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of content as AsyncIterable<Buffer>) {
    pending.push(piece);
    pendingBytes += piece.length;
    while (pendingBytes >= size) {
      const joined = Buffer.concat(pending);
      yield joined.subarray(0, size);
      pending = [joined.subarray(size)];
      pendingBytes = joined.length - size;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}
