import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { BlobDescriptor } from './descriptors';
import { BlobDownloadError, DigestMismatchError, SourceBlobSizeError } from './oci-errors';

/**
 * A blob's bytes as a source delivers them, counted always and hashed when asked. It fails as
 * soon as the source sends more bytes than the blob has (before passing the excess on), at its
 * end when the source sent fewer, and with a message naming the blob, the source and the bytes
 * that arrived when the download breaks off. A target that is sent the blob so never waits for
 * bytes that will not come, and a failure says it was the source's.
 */
export class SourceBlobStream extends Transform {
  private arrived = 0;
  private passed = 0;
  private readonly hash?: Hash;
  private ended = false;
  private fault?: Error;

  /** Reads `body` through a new SourceBlobStream; destroying that stream ends the download too. */
  static of(body: Readable, source: string, blob: BlobDescriptor, options: { verify: boolean }): SourceBlobStream {
    const stream = new SourceBlobStream(source, blob, options.verify);
    body.on('data', (chunk: Buffer) => (stream.arrived += chunk.length));
    body.on('error', (error) => {
      if (!stream.destroyed) stream.fail(new BlobDownloadError(source, blob.digest, stream.arrived, blob.size, describeBreak(error)));
    });
    stream.on('close', () => {
      if (!body.readableEnded) body.destroy();
    });
    return body.pipe(stream);
  }

  private constructor(
    private readonly source: string,
    private readonly blob: BlobDescriptor,
    verify: boolean,
  ) {
    super();
    if (verify) this.hash = createHash('sha256');
  }

  /** Every byte of the blob went through, exactly as many as it has (and with its digest, when verified). */
  get complete(): boolean {
    return this.ended;
  }

  /**
   * Why the source failed this stream, if it did: a wrong size or digest, or a download cut off.
   * Unlike `errored` this is never the error of whoever reads the stream (a failed upload that
   * stopped reading destroys it with its own error, or an AbortError).
   */
  get sourceFault(): Error | undefined {
    return this.fault;
  }

  private fail(error: Error): void {
    this.destroy(this.noted(error));
  }

  private noted(error: Error): Error {
    this.fault = error;
    return error;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.passed += chunk.length;
    if (this.passed > this.blob.size) {
      return callback(this.noted(new SourceBlobSizeError(this.source, this.blob.digest, this.blob.size, `at least ${this.passed} bytes`)));
    }
    this.hash?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.passed !== this.blob.size) {
      return callback(this.noted(new SourceBlobSizeError(this.source, this.blob.digest, this.blob.size, `${this.passed} bytes`)));
    }
    const actual = this.hash && `sha256:${this.hash.digest('hex')}`;
    if (actual && actual !== this.blob.digest) {
      return callback(this.noted(new DigestMismatchError(`blob ${this.blob.digest} from ${this.source}`, this.blob.digest, actual)));
    }
    this.ended = true;
    callback();
  }
}

/** Node says a cut response body is `aborted`; say what that means. */
function describeBreak(error: Error & { code?: string }): string {
  if (error.message === 'aborted') return `the connection closed before the end of the body (${error.code ?? 'aborted'})`;
  return [error.code, error.message].filter((part, index, parts) => part && parts.indexOf(part) === index).join(' ');
}
