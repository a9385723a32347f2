import { sha256Hex } from '@changemaker/oci';
import type { ManifestFile } from '@changemaker/release-contract';
import type { TarEntry } from './tar-entry';

export function manifestFiles(entries: readonly TarEntry[]): ManifestFile[] {
  return entries
    .filter((entry): entry is Extract<TarEntry, { type: 'file' }> => entry.type === 'file')
    .map((entry) => ({ path: entry.path, size: entry.content.length, mode: entry.mode.toString(8).padStart(4, '0'), sha256: sha256Hex(entry.content) }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The `sha256sum -c` format: hash, two spaces, file name. */
export function sha256sums(files: ReadonlyArray<{ name: string; sha256: string }>): string {
  return files.map(({ name, sha256: hash }) => `${hash}  ${name}\n`).join('');
}
