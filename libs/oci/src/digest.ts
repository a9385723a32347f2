import { createHash } from 'node:crypto';
import { DigestMismatchError } from './oci-errors';

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Only sha256 is in use by any registry we talk to; anything else is refused rather than trusted. */
export function verifyDigest(what: string, bytes: Buffer, expected: string): void {
  const actual = sha256Digest(bytes);
  if (actual !== expected) throw new DigestMismatchError(what, expected, actual);
}

export function digestHex(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  if (algorithm !== 'sha256' || !/^[a-f0-9]{64}$/.test(hex ?? '')) {
    throw new DigestMismatchError('digest', 'a sha256 digest', digest);
  }
  return hex;
}
