import { parallelGzip } from './parallel-gzip';
import type { TarEntry } from './tar-entry';
import { BLOCK_SIZE, ustarHeader } from './ustar-header';

/**
 * A tar.gz whose bytes depend only on the entries' paths, modes and contents and on `mtimeSeconds`
 * (and, for the gzip, on the zlib: parallelGzipName): entries sorted by path, every parent directory
 * present, owner 0:0 without names, gzip without file name or timestamp. `tar` is what it compresses.
 */
export async function reproducibleTarGz(entries: readonly TarEntry[], mtimeSeconds: number): Promise<{ tar: Buffer; gzip: Buffer }> {
  const tar = reproducibleTar(entries, mtimeSeconds);
  return { tar, gzip: await parallelGzip(tar) };
}

export function reproducibleTar(entries: readonly TarEntry[], mtimeSeconds: number): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of withParentDirectories(entries).sort(byPath)) {
    blocks.push(ustarHeader(entry, mtimeSeconds));
    if (entry.type === 'file') blocks.push(entry.content, Buffer.alloc(paddingAfter(entry.content.length)));
  }
  blocks.push(Buffer.alloc(2 * BLOCK_SIZE));
  return Buffer.concat(blocks);
}

/** The entries and every parent directory they imply, as the archive lists them. */
export function withParentDirectories(entries: readonly TarEntry[]): TarEntry[] {
  const byPathMap = new Map<string, TarEntry>(entries.map((entry) => [entry.path, entry]));
  for (const entry of entries) {
    for (let parent = parentOf(entry.path); parent !== ''; parent = parentOf(parent)) {
      if (!byPathMap.has(parent)) byPathMap.set(parent, { type: 'directory', path: parent, mode: 0o755 });
    }
  }
  return [...byPathMap.values()];
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

/** Compares code units, not locale collation, so every machine sorts the same way. */
function byPath(a: TarEntry, b: TarEntry): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

function paddingAfter(size: number): number {
  return (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;
}
