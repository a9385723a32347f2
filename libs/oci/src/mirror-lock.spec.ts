import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MirrorLockError, mirrorLockFileOf, parseMirrorLock, readMirrorLock, recordMirrored, writeMirrorLock, type MirrorLock } from './mirror-lock';

const a = `sha256:${'a'.repeat(64)}`;
const b = `sha256:${'b'.repeat(64)}`;
const n = `sha256:${'c'.repeat(64)}`;
const postgres = 'docker.io/library/postgres:16-alpine';

describe('mirror lock', () => {
  it('lives beside the mirror list', () => {
    expect(mirrorLockFileOf('/w/docker/mirror-images.json')).toBe('/w/docker/mirror-images.lock.json');
  });

  it('records copied and current pins, keeps narrowed digests of the same upstream digest, and drops pins no longer listed', () => {
    const lock: MirrorLock = new Map([
      ['postgres:16-alpine', { source: postgres, digest: a, narrowed: { 'linux/amd64': n } }],
      ['gone:1', { source: 'docker.io/library/gone:1', digest: a }],
    ]);
    const next = recordMirrored(lock, [
      { pin: 'postgres:16-alpine', source: postgres, status: 'current', upstreamDigest: a, digest: b },
      { pin: 'redis:7', source: 'docker.io/library/redis:7', status: 'failed' },
    ], ['linux/arm64', 'linux/amd64'], new Set(['postgres:16-alpine', 'redis:7']));
    expect([...next]).toEqual([['postgres:16-alpine', { source: postgres, digest: a, narrowed: { 'linux/amd64': n, 'linux/amd64,linux/arm64': b } }]]);
  });

  it('forgets narrowed digests of an upstream digest that was replaced', () => {
    const lock: MirrorLock = new Map([['postgres:16-alpine', { source: postgres, digest: a, narrowed: { 'linux/amd64': n } }]]);
    const next = recordMirrored(lock, [{ pin: 'postgres:16-alpine', source: postgres, status: 'copied', upstreamDigest: b, digest: b }], undefined, new Set(['postgres:16-alpine']));
    expect(next.get('postgres:16-alpine')).toEqual({ source: postgres, digest: b });
  });

  it('round-trips through its file, sorted, leaving no partial file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cm-lock-'));
    try {
      const lock: MirrorLock = new Map([['redis:7', { source: 'docker.io/library/redis:7', digest: b }], ['alpine:3', { source: 'docker.io/library/alpine:3', digest: a }]]);
      await writeMirrorLock(join(dir, 'l.lock.json'), lock);
      expect(Object.keys(JSON.parse(await readFile(join(dir, 'l.lock.json'), 'utf8')).images)).toEqual(['alpine:3', 'redis:7']);
      expect([...(await readMirrorLock(join(dir, 'l.lock.json')))].sort()).toEqual([...lock].sort());
      expect(await readdir(dir)).toEqual(['l.lock.json']);
      expect((await readMirrorLock(join(dir, 'missing.lock.json'))).size).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['{', /l\.lock\.json is not valid JSON/],
    ['{ "images": {} }', /is not a version 1 mirror lock/],
    [`{ "lockfileVersion": 1, "images": { "x:1": { "source": "s", "digest": "sha256:12" } } }`, /the entry for x:1 needs "source" and a sha256 "digest"/],
  ])('refuses %s with what to do', (text, message) => {
    expect(() => parseMirrorLock(text, 'l.lock.json')).toThrow(MirrorLockError);
    expect(() => parseMirrorLock(text, 'l.lock.json')).toThrow(message);
    expect(() => parseMirrorLock(text, 'l.lock.json')).toThrow(/restore it from version control/);
  });
});
