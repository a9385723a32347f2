import { EntryPathTooLongError } from './bundle-errors';
import type { TarEntry } from './tar-entry';

export const BLOCK_SIZE = 512;
const NAME_LENGTH = 100;
const PREFIX_LENGTH = 155;

/**
 * A POSIX ustar header with owner 0:0 and no user or group names, so the archive says nothing
 * about the machine or the person that packaged it.
 */
export function ustarHeader(entry: TarEntry, mtimeSeconds: number): Buffer {
  const header = Buffer.alloc(BLOCK_SIZE);
  const archivePath = archivePathOf(entry);
  const split = splitForUstar(archivePath);
  if (!split) throw new EntryPathTooLongError(archivePath);
  const { name, prefix } = split;
  header.write(name, 0, NAME_LENGTH, 'utf8');
  writeOctal(header, 100, 8, entry.mode);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, entry.type === 'file' ? entry.content.length : 0);
  writeOctal(header, 136, 12, mtimeSeconds);
  header.write(entry.type === 'file' ? '0' : '5', 156, 1, 'ascii');
  header.write('ustar\u000000', 257, 8, 'ascii');
  header.write(prefix, 345, PREFIX_LENGTH, 'utf8');
  writeChecksum(header);
  return header;
}

/** Whether a ustar header can hold the entry's path: split at a slash, at most 155 bytes before it and 100 after. */
export function fitsUstar(entry: TarEntry): boolean {
  return splitForUstar(archivePathOf(entry)) !== undefined;
}

function archivePathOf(entry: TarEntry): string {
  return entry.type === 'directory' ? `${entry.path}/` : entry.path;
}

function splitForUstar(path: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(path) <= NAME_LENGTH) return { name: path, prefix: '' };
  for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
    const prefix = path.slice(0, slash);
    const name = path.slice(slash + 1);
    if (Buffer.byteLength(prefix) <= PREFIX_LENGTH && Buffer.byteLength(name) <= NAME_LENGTH && name !== '') {
      return { name, prefix };
    }
  }
  return undefined;
}

function writeOctal(header: Buffer, offset: number, width: number, value: number): void {
  header.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}

/** The checksum is computed with its own field read as eight spaces (POSIX). */
function writeChecksum(header: Buffer): void {
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
}
