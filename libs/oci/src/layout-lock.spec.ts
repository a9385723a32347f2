import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { skopeoManifestDigest } from '@changemaker/testing';
import { sha256Digest } from './digest';
import { withLayoutLock } from './layout-lock';
import { mediaTypes } from './media-types';
import { OciLayout } from './oci-layout';
import { LayoutLockedError } from './oci-errors';

const workspaceRoot = join(__dirname, '../../..');
const writerScript = join(__dirname, 'layout-writer-process.ts');
const refName = 'org.opencontainers.image.ref.name';

interface IndexEntry {
  digest: string;
  annotations?: Record<string, string>;
}

type WriterProcess = ResultPromise<{ cwd: string; stdin: 'pipe' }>;

function startWriter(...args: string[]): WriterProcess {
  return execa('node', ['-r', '@swc-node/register', writerScript, ...args], { cwd: workspaceRoot, stdin: 'pipe' });
}

/** Wrapped, because a bare child process is a promise of its exit and `await` would wait for that. */
async function untilItSaysSomething(writer: WriterProcess): Promise<{ writer: WriterProcess }> {
  await new Promise((resolve, reject) => {
    writer.stdout.once('data', resolve);
    writer.catch(reject);
  });
  return { writer };
}

async function readIndexEntries(directory: string): Promise<IndexEntry[]> {
  return (JSON.parse(await readFile(join(directory, 'index.json'), 'utf8')) as { manifests: IndexEntry[] }).manifests;
}

async function readTags(directory: string): Promise<Array<string | undefined>> {
  return (await readIndexEntries(directory)).map((entry) => entry.annotations?.[refName]);
}

function manifestTagged(tag: string) {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.ociManifest, layers: [], annotations: { tag } }));
  return { bytes, mediaType: mediaTypes.ociManifest, digest: sha256Digest(bytes) };
}

describe('the OCI layout index lock', () => {
  let root: string;
  let directory: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cm-layout-lock-'));
  });
  beforeEach(() => {
    directory = join(root, randomUUID());
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('lets several processes add tags to one layout at the same time without losing any', async () => {
    const writers = ['a', 'b', 'c', 'd'];
    const tagsEach = 40;
    await Promise.all(writers.map((prefix) => startWriter('add-tags', directory, prefix, String(tagsEach))));

    const entries = await readIndexEntries(directory);
    const tags = entries.map((entry) => entry.annotations?.[refName]);
    const expected = writers.flatMap((prefix) => Array.from({ length: tagsEach }, (_, i) => `${prefix}-${i}`));
    expect([...tags].sort()).toEqual([...expected].sort());
    for (const entry of entries) {
      const manifest = JSON.parse(await readFile(join(directory, 'blobs', 'sha256', entry.digest.slice('sha256:'.length)), 'utf8'));
      expect(manifest.annotations.tag).toBe(entry.annotations?.[refName]);
    }
    expect(await skopeoManifestDigest(`oci:${directory}:c-17`)).toBe(entries.find((e) => e.annotations?.[refName] === 'c-17')?.digest);
    // Every lock, claim and temporary index was cleaned up.
    expect((await readdir(directory)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  }, 60_000);

  it('makes writers wait for a live holder or give up naming it, and take the lock over one at a time once that holder has died', async () => {
    const impatient = new OciLayout(directory, { maxWaitMs: 300 });
    await impatient.putManifest('before', manifestTagged('before'));
    const { writer: holder } = await untilItSaysSomething(startWriter('hold-lock', directory));
    const waiting: WriterProcess[] = [];
    try {
      const blocked = impatient.putManifest('during', manifestTagged('during'));
      await expect(blocked).rejects.toThrow(LayoutLockedError);
      await expect(blocked).rejects.toThrow(`oci:${directory} is locked by pid ${holder.pid} on `);
      expect(await readTags(directory)).toEqual(['before']);
      for (const prefix of ['x', 'y', 'z']) waiting.push((await untilItSaysSomething(startWriter('add-tags', directory, prefix, '10'))).writer);
    } finally {
      holder.kill('SIGKILL');
      await holder.catch(() => undefined);
    }

    // The killed holder never released its lock: the waiting writers find its pid dead and race to take over.
    await Promise.all(waiting);
    const tags = await readTags(directory);
    expect(tags).toHaveLength(31);
    expect(tags).toEqual(expect.arrayContaining(['before', 'x-9', 'y-0', 'z-5']));
    await expect(stat(join(directory, 'index.json.lock'))).rejects.toThrow('ENOENT');
  }, 30_000);

  it('respects a recent lock from another host, whose process it cannot check, until it is older than the stale limit', async () => {
    const layout = new OciLayout(directory, { maxWaitMs: 200, staleAfterMs: 60_000 });
    await layout.putManifest('first', manifestTagged('first'));
    const lockFile = join(directory, 'index.json.lock');
    const since = new Date().toISOString();
    await writeFile(lockFile, JSON.stringify({ pid: 4242, hostname: 'build-agent-7', token: randomUUID(), since }));
    await expect(layout.putManifest('second', manifestTagged('second'))).rejects.toThrow(/is locked by pid 4242 on build-agent-7 .*delete .*index\.json\.lock/);

    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await utimes(lockFile, twoMinutesAgo, twoMinutesAgo);
    await layout.putManifest('second', manifestTagged('second'));
    expect(await readTags(directory)).toEqual(['first', 'second']);
  });

  it('breaks a dead writer\'s lock even when a waiter died while breaking it, and not while such a waiter may still be at it', async () => {
    const layout = new OciLayout(directory, { maxWaitMs: 300 });
    await layout.putManifest('first', manifestTagged('first'));
    const lockFile = join(directory, 'index.json.lock');
    const exited = execa('true');
    await exited;
    const token = randomUUID();
    await writeFile(lockFile, JSON.stringify({ pid: exited.pid, hostname: hostname(), token, since: new Date().toISOString() }));
    const claim = `${lockFile}.break-${token}`;
    await writeFile(claim, '');
    await expect(layout.putManifest('second', manifestTagged('second'))).rejects.toThrow(LayoutLockedError);

    const aMinuteAgo = new Date(Date.now() - 60_000);
    await utimes(claim, aMinuteAgo, aMinuteAgo);
    await layout.putManifest('second', manifestTagged('second'));
    expect(await readTags(directory)).toEqual(['first', 'second']);
    expect((await readdir(directory)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('waits on a lock file whose holder has not written its name yet', async () => {
    const layout = new OciLayout(directory, { maxWaitMs: 200 });
    await layout.putManifest('first', manifestTagged('first'));
    await writeFile(join(directory, 'index.json.lock'), '');
    await expect(layout.putManifest('second', manifestTagged('second'))).rejects.toThrow('is locked by an unknown process');
  });

  it('leaves alone the lock of a writer that took over from one that held it past the stale limit', async () => {
    await mkdir(directory);
    const lockFile = join(directory, 'index.json.lock');
    let firstHolds = () => undefined as void;
    let letFirstFinish = () => undefined as void;
    const firstHeld = new Promise<void>((resolve) => (firstHolds = resolve));
    const firstMayFinish = new Promise<void>((resolve) => (letFirstFinish = resolve));
    const first = withLayoutLock(directory, async () => {
      firstHolds();
      await firstMayFinish;
    });
    await firstHeld;
    const lockAfterFirstReleased = await withLayoutLock(
      directory,
      async () => {
        letFirstFinish();
        await first;
        return readFile(lockFile, 'utf8');
      },
      { staleAfterMs: 50 },
    );
    expect(JSON.parse(lockAfterFirstReleased).pid).toBe(process.pid);
    await expect(stat(lockFile)).rejects.toThrow('ENOENT');
  });
});
