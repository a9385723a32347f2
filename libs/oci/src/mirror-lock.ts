import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { OciError } from './oci-errors';

/**
 * What a mirror run recorded for one pin of the mirror list: the upstream digest its tag named
 * when it was mirrored. The lock is what a release records for third-party images.
 */
export interface MirrorLockEntry {
  /** The upstream reference as the mirror list gives it, e.g. docker.io/library/postgres:16-alpine. */
  source: string;
  /** The manifest digest `source` named when it was mirrored. */
  digest: string;
  /** Per platform set ("linux/amd64,linux/arm64", sorted), the digest of the index narrowed to it. */
  narrowed?: Record<string, string>;
}

/** Target (short name:tag under the private registry, e.g. postgres:16-alpine) -> what was mirrored. */
export type MirrorLock = ReadonlyMap<string, MirrorLockEntry>;

/** The lock is unreadable; nothing is mirrored on a lock that cannot be trusted. */
export class MirrorLockError extends OciError {}

const lockfileVersion = 1;

/** docker/mirror-images.json -> docker/mirror-images.lock.json: the one place both stages name it. */
export function mirrorLockFileOf(listFile: string): string {
  return listFile.replace(/(\.json)?$/, '.lock.json');
}

/** A missing lock is an empty one: the first run of a new list writes it. */
export async function readMirrorLock(file: string, shownAs = file): Promise<MirrorLock> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new MirrorLockError(`${shownAs} cannot be read (${error.code}); check its permissions`);
  });
  return text === undefined ? new Map() : parseMirrorLock(text, shownAs);
}

export function parseMirrorLock(text: string, file: string): MirrorLock {
  const remedy = `restore it from version control (git checkout -- ${file}), or delete it to record every pin afresh`;
  let raw: { lockfileVersion?: unknown; images?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch (error) {
    throw new MirrorLockError(`${file} is not valid JSON (${(error as Error).message}); ${remedy}`);
  }
  if (raw?.lockfileVersion !== lockfileVersion || typeof raw.images !== 'object' || raw.images === null) {
    throw new MirrorLockError(`${file} is not a version ${lockfileVersion} mirror lock ({ "lockfileVersion": 1, "images": { ... } }); ${remedy}`);
  }
  const entries = new Map<string, MirrorLockEntry>();
  for (const [target, entry] of Object.entries(raw.images as Record<string, unknown>)) {
    if (!isLockEntry(entry)) throw new MirrorLockError(`${file}: the entry for ${target} needs "source" and a sha256 "digest"; ${remedy}`);
    entries.set(target, entry);
  }
  return entries;
}

/** Sorted by target, so a lock rewritten for one pin changes one entry in a diff. */
export function formatMirrorLock(lock: MirrorLock): string {
  const images = Object.fromEntries([...lock].sort(([a], [b]) => a.localeCompare(b)));
  return `${JSON.stringify({ lockfileVersion, images }, null, 2)}\n`;
}

/** Written beside and renamed over, so an interrupted run never leaves half a lock. */
export async function writeMirrorLock(file: string, lock: MirrorLock): Promise<void> {
  const partial = `${file}.${process.pid}.partial`;
  try {
    await writeFile(partial, formatMirrorLock(lock));
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw new MirrorLockError(`${file} cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the directory's permissions`);
  }
}

export function platformSetKey(platforms: string[]): string {
  return [...platforms].sort().join(',');
}

/**
 * The digest the lock holds for this pin when upstream now names another one. A pin whose source
 * line was edited is a new pin, not a move: the lock entry of the old source does not bind it.
 */
export function lockedDigestIfMoved(lock: MirrorLock, target: string, source: string, upstreamDigest: string): string | undefined {
  const entry = lock.get(target);
  return entry && entry.source === source && entry.digest !== upstreamDigest ? entry.digest : undefined;
}

/** The narrowed digest an earlier run recorded for this upstream digest and platform set. */
export function knownNarrowedDigest(lock: MirrorLock, target: string, source: string, upstreamDigest: string, platforms: string[]): string | undefined {
  const entry = lock.get(target);
  if (!entry || entry.source !== source || entry.digest !== upstreamDigest) return undefined;
  return entry.narrowed?.[platformSetKey(platforms)];
}

function isLockEntry(entry: unknown): entry is MirrorLockEntry {
  const candidate = entry as Partial<MirrorLockEntry> | null;
  return typeof candidate?.source === 'string' && typeof candidate.digest === 'string' && /^sha256:[a-f0-9]{64}$/.test(candidate.digest)
    && (candidate.narrowed === undefined || (typeof candidate.narrowed === 'object' && candidate.narrowed !== null));
}

/**
 * Whether the lock records `digest` for this pin, as upstream's digest or an index narrowed to some
 * platforms, whatever source the entry names: an image this mirror wrote under the pin's tag. A tag
 * holding anything else was written by someone else, or mirrored with another lock.
 */
export function lockRecordsDigest(lock: MirrorLock, pin: string, digest: string): boolean {
  const entry = lock.get(pin);
  return entry !== undefined && (entry.digest === digest || Object.values(entry.narrowed ?? {}).includes(digest));
}

/** How messages name a target digest the lock does not record for its pin, against what it does record. */
export function unrecordedDigestNote(lock: MirrorLock, pin: string, digest: string): string {
  const entry = lock.get(pin);
  return `holds ${digest}, ${entry ? `not the ${entry.digest} its mirror lock records` : `and its mirror lock records nothing for ${pin}`}`;
}

/** What recordMirrored needs of a mirror outcome. */
export interface MirroredPin {
  pin: string;
  source: string;
  status: string;
  upstreamDigest?: string;
  digest?: string;
}

/** The outcomes after which the target tag names what the pin asks for. */
const writtenStatuses: ReadonlySet<string> = new Set(['copied', 'replaced', 'current']);

/**
 * The lock after a real run: each pin copied, replaced or found current records its upstream digest (and,
 * with --platforms, the narrowed digest); pins no longer in the list are dropped; the rest stay.
 */
export function recordMirrored(lock: MirrorLock, outcomes: MirroredPin[], platforms: string[] | undefined, listedPins: ReadonlySet<string>): MirrorLock {
  const next = new Map([...lock].filter(([target]) => listedPins.has(target)));
  for (const outcome of outcomes) {
    if (!writtenStatuses.has(outcome.status) || !outcome.upstreamDigest || !outcome.digest) continue;
    const previous = lock.get(outcome.pin);
    const samePin = previous?.source === outcome.source && previous.digest === outcome.upstreamDigest;
    const narrowed = { ...(samePin ? previous.narrowed : {}), ...(platforms ? { [platformSetKey(platforms)]: outcome.digest } : {}) };
    next.set(outcome.pin, { source: outcome.source, digest: outcome.upstreamDigest, ...(Object.keys(narrowed).length > 0 ? { narrowed } : {}) });
  }
  return next;
}
