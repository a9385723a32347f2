import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { DigestMismatchError } from './oci-errors';

/** The workspace's one sha256 helper: hex, as checksum files and release manifests write it. */
export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Streams the file, so a release tarball of any size costs no memory. */
export async function sha256HexOfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `sha256:<hex>`, as registries name content. */
export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${sha256Hex(bytes)}`;
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
