import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { EntryPathTooLongError } from './bundle-errors';
import { reproducibleTarGz } from './reproducible-tar';
import type { TarEntry } from './tar-entry';

const MTIME = 1_700_000_000;
const longDirectory = `top/${'d'.repeat(90)}/${'e'.repeat(40)}`;
const entries: TarEntry[] = [
  { type: 'file', path: 'top/scripts/run.sh', mode: 0o755, content: Buffer.from('#!/bin/sh\necho hi\n') },
  { type: 'file', path: 'top/a-b/readme.md', mode: 0o644, content: Buffer.from('x'.repeat(1000)) },
  { type: 'directory', path: 'top/data/postgres', mode: 0o755 },
  { type: 'file', path: `${longDirectory}/file.txt`, mode: 0o644, content: Buffer.from('deep\n') },
  { type: 'file', path: 'top/empty.txt', mode: 0o644, content: Buffer.alloc(0) },
];

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-tar-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('gives the same bytes whatever order the entries come in', async () => {
  const forward = (await reproducibleTarGz(entries, MTIME)).gzip;
  const backward = (await reproducibleTarGz([...entries].reverse(), MTIME)).gzip;
  expect(backward.equals(forward)).toBe(true);
  expect((await reproducibleTarGz(entries, MTIME + 1)).gzip.equals(forward)).toBe(false);
});

it('writes a gzip header without file name or timestamp', async () => {
  const gzip = (await reproducibleTarGz(entries, MTIME)).gzip;
  expect(gzip.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 0x08]));
  expect(gzip[3]).toBe(0); // no FNAME, FCOMMENT or FEXTRA
  expect(gzip.readUInt32LE(4)).toBe(0);
});

it('is read by the system tar: sorted, parents first, owner 0:0 without names, normalised modes and mtime', async () => {
  const archive = join(dir, 'a.tar.gz');
  await writeFile(archive, (await reproducibleTarGz(entries, MTIME)).gzip);
  const listing = (await execa('tar', ['-tvzf', archive, '--numeric-owner', '--full-time'], { env: { TZ: 'UTC' } })).stdout.split('\n');
  const rows = listing.map((line) => line.split(/\s+/));
  expect(rows.map((row) => row[5])).toEqual([
    'top/',
    'top/a-b/',
    'top/a-b/readme.md',
    'top/data/',
    'top/data/postgres/',
    `top/${'d'.repeat(90)}/`,
    `${longDirectory}/`,
    `${longDirectory}/file.txt`,
    'top/empty.txt',
    'top/scripts/',
    'top/scripts/run.sh',
  ]);
  for (const row of rows) {
    expect(row[1]).toBe('0/0');
    expect(`${row[3]} ${row[4]}`).toBe('2023-11-14 22:13:20');
    expect(row[0]).toBe(row[5].endsWith('/') ? 'drwxr-xr-x' : row[5].endsWith('.sh') ? '-rwxr-xr-x' : '-rw-r--r--');
  }
  const headerNames = gunzipSync(await readFile(archive)).subarray(265, 265 + 64);
  expect(headerNames.every((byte) => byte === 0)).toBe(true);
});

it('extracts with the system tar to the same contents and modes', async () => {
  const archive = join(dir, 'a.tar.gz');
  await writeFile(archive, (await reproducibleTarGz(entries, MTIME)).gzip);
  await execa('tar', ['-xzf', archive, '-C', dir]);
  expect(await readFile(join(dir, longDirectory, 'file.txt'), 'utf8')).toBe('deep\n');
  expect((await stat(join(dir, 'top/scripts/run.sh'))).mode & 0o777).toBe(0o755);
  expect((await stat(join(dir, 'top/data/postgres'))).isDirectory()).toBe(true);
  expect((await stat(join(dir, 'top/a-b/readme.md'))).mtimeMs).toBe(MTIME * 1000);
});

it('refuses a path that ustar cannot hold', async () => {
  const tooLong: TarEntry = { type: 'file', path: `top/${'x'.repeat(120)}`, mode: 0o644, content: Buffer.alloc(1) };
  await expect(reproducibleTarGz([tooLong], MTIME)).rejects.toThrow(EntryPathTooLongError);
});
