import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError } from './oci-errors';

/**
 * Passes bytes through while hashing them, and fails the stream at its end when the digest or
 * size differs from what the manifest promised, so a corrupt blob is never committed.
 */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  private bytes = 0;

  constructor(private readonly what: string, private readonly expectedDigest: string, private readonly expectedSize?: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const actual = `sha256:${this.hash.digest('hex')}`;
    if (actual !== this.expectedDigest) return callback(new DigestMismatchError(this.what, this.expectedDigest, actual));
    if (this.expectedSize !== undefined && this.bytes !== this.expectedSize) {
      return callback(new DigestMismatchError(`${this.what} (size)`, `${this.expectedSize} bytes`, `${this.bytes} bytes`));
    }
    callback();
  }
}
