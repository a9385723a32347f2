import { createHash } from 'node:crypto';
import type { TarEntry } from './tar-entry';

export interface ManifestFile {
  path: string;
  size: number;
  mode: string;
  sha256: string;
}

export interface ReleaseManifest {
  name: string;
  version: string;
  tag: string;
  commit: string | null;
  sourceDateEpoch: number;
  files: ManifestFile[];
  /** Compose service -> the image reference a release install pulls for it. */
  images: Record<string, string>;
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export function manifestFiles(entries: readonly TarEntry[]): ManifestFile[] {
  return entries
    .filter((entry): entry is Extract<TarEntry, { type: 'file' }> => entry.type === 'file')
    .map((entry) => ({ path: entry.path, size: entry.content.length, mode: entry.mode.toString(8).padStart(4, '0'), sha256: sha256(entry.content) }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The `sha256sum -c` format: hash, two spaces, file name. */
export function sha256sums(files: ReadonlyArray<{ name: string; sha256: string }>): string {
  return files.map(({ name, sha256: hash }) => `${hash}  ${name}\n`).join('');
}
