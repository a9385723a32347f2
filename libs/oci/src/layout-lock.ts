import { randomUUID } from 'node:crypto';
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LayoutLockedError } from './oci-errors';
import { isProcessAlive } from './process-alive';

/**
 * A lock file beside an OCI layout's index.json, so that writers in separate processes (two
 * mirror runs into one `oci:<dir>`) take turns at its read-modify-write instead of losing each
 * other's tags. Readers need none: index.json is only ever replaced by a rename.
 */
export interface LayoutLockOptions {
  /** How long to wait for another writer before giving up with LayoutLockedError; default 30 s. */
  maxWaitMs?: number;
  /** A lock this old is abandoned whoever holds it (an index update takes milliseconds); default 2 min. */
  staleAfterMs?: number;
}

const lockFileName = 'index.json.lock';
const defaultMaxWaitMs = 30_000;
const defaultStaleAfterMs = 120_000;
const longestPollMs = 100;
/** Breaking a lock takes milliseconds; a claim this old was left by a waiter that died while breaking one. */
const abandonedClaimAfterMs = 5_000;
const tokenPattern = /^[0-9a-f-]{36}$/;

/** What a lock file says about the process that holds it. */
interface LockHolder {
  pid: number;
  hostname: string;
  token: string;
  since: string;
}

/** A lock file as found on disk; `holder` is undefined while its creator is still writing it. */
interface FoundLock {
  holder?: LockHolder;
  ageMs: number;
  inode: number;
}

interface HeldLock {
  path: string;
  token: string;
}

/** Runs `action` while holding the layout's index lock, and always releases it. */
export async function withLayoutLock<T>(directory: string, action: () => Promise<T>, options: LayoutLockOptions = {}): Promise<T> {
  const lock = await acquireLayoutLock(directory, options);
  try {
    return await action();
  } finally {
    await releaseLayoutLock(lock);
  }
}

async function acquireLayoutLock(directory: string, options: LayoutLockOptions): Promise<HeldLock> {
  const path = join(directory, lockFileName);
  const maxWaitMs = options.maxWaitMs ?? defaultMaxWaitMs;
  const staleAfterMs = options.staleAfterMs ?? defaultStaleAfterMs;
  const me: LockHolder = { pid: process.pid, hostname: hostname(), token: randomUUID(), since: new Date().toISOString() };
  const deadline = Date.now() + maxWaitMs;
  for (let attempt = 0; ; attempt++) {
    if (await tryCreateLockFile(path, me)) return { path, token: me.token };
    const found = await inspectLock(path);
    // Gone already: its holder released it between our attempt and our look.
    if (found === undefined) continue;
    if (isStale(found, staleAfterMs) && (await breakStaleLock(path, found))) continue;
    if (Date.now() >= deadline) throw new LayoutLockedError(directory, describeHolder(found), path, maxWaitMs);
    await sleep(pollDelayMs(attempt));
  }
}

/** Exclusive create ('wx'): of several processes trying at once, exactly one succeeds. */
async function tryCreateLockFile(path: string, me: LockHolder): Promise<boolean> {
  let file;
  try {
    file = await open(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await file.writeFile(JSON.stringify(me));
    await file.close();
    return true;
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
}

async function inspectLock(path: string): Promise<FoundLock | undefined> {
  try {
    const [stats, text] = await Promise.all([stat(path), readFile(path, 'utf8')]);
    return { holder: parseHolder(text), ageMs: Date.now() - stats.mtimeMs, inode: stats.ino };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** A pid of 0 or below would make the liveness probe signal a process group, so such files count as unreadable. */
function parseHolder(text: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(text) as Partial<LockHolder>;
    const valid =
      Number.isInteger(holder.pid) && (holder.pid as number) > 0 &&
      typeof holder.hostname === 'string' && typeof holder.since === 'string' &&
      typeof holder.token === 'string' && tokenPattern.test(holder.token);
    return valid ? (holder as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/** A dead pid is only conclusive on this host; a lock from another host goes stale by age alone. */
function isStale(found: FoundLock, staleAfterMs: number): boolean {
  if (found.ageMs > staleAfterMs) return true;
  return found.holder !== undefined && found.holder.hostname === hostname() && !isProcessAlive(found.holder.pid);
}

/**
 * Removes a stale lock unless it changed since we judged it. Waiters that judged the same lock
 * stale race here; the claim file, created exclusively and named after that lock, lets one of them
 * remove it, so a slower one cannot delete the fresh lock the winner has taken meanwhile.
 * True when the lock is gone (ours to retry at once), false when another waiter is breaking it.
 */
async function breakStaleLock(path: string, stale: FoundLock): Promise<boolean> {
  const claim = `${path}.break-${stale.holder?.token ?? `inode-${stale.inode}`}`;
  try {
    await writeFile(claim, '', { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await removeIfAbandoned(claim);
    return false;
  }
  try {
    const now = await inspectLock(path);
    if (now !== undefined && isSameLock(now, stale)) await rm(path, { force: true });
    return true;
  } finally {
    await rm(claim, { force: true });
  }
}

/** Without this, a claim left by a crash would keep every later writer from breaking that lock. */
async function removeIfAbandoned(claim: string): Promise<void> {
  const claimedAt = await stat(claim).then((stats) => stats.mtimeMs, () => undefined);
  if (claimedAt !== undefined && Date.now() - claimedAt > abandonedClaimAfterMs) await rm(claim, { force: true });
}

function isSameLock(a: FoundLock, b: FoundLock): boolean {
  return a.inode === b.inode && a.holder?.token === b.holder?.token;
}

/** Only our own lock: if we held it so long that another writer took it over, that one is theirs now. */
async function releaseLayoutLock(lock: HeldLock): Promise<void> {
  const found = await inspectLock(lock.path);
  if (found?.holder?.token === lock.token) await rm(lock.path, { force: true });
}

function describeHolder(found: FoundLock): string {
  const age = `${Math.round(found.ageMs / 1000)} s ago`;
  if (!found.holder) return `an unknown process (its lock file, written ${age}, names no holder)`;
  return `pid ${found.holder.pid} on ${found.holder.hostname} (since ${age})`;
}

/** Doubling from ~2 ms, capped, with jitter so waiters do not retry in step. */
function pollDelayMs(attempt: number): number {
  return Math.min(longestPollMs, 2 * 2 ** attempt) * (0.5 + Math.random());
}
