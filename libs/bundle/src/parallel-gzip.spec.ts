import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { parallelGzip } from './parallel-gzip';

// Several 1 MiB blocks, text and noise mixed, with a tail that does not fill a block.
const text = Buffer.from('Changemaker Lite keeps campaigns running on infrastructure the organisers control.\n'.repeat(40_000));
const sample = Buffer.concat([text, randomBytes(1_500_000), text.subarray(0, 123_457)]);

it('round-trips through the system gzip and Node, across block boundaries', async () => {
  const gzipped = await parallelGzip(sample);
  const systemGunzip = await execa('gzip', ['-dc'], { input: gzipped, encoding: 'buffer' });
  expect(Buffer.from(systemGunzip.stdout).equals(sample)).toBe(true);
  expect(gunzipSync(gzipped).equals(sample)).toBe(true);
  await execa('gzip', ['-t'], { input: gzipped });
});

it('gives the same bytes every time, with no name, no timestamp and a fixed OS byte', async () => {
  const first = await parallelGzip(sample);
  expect((await parallelGzip(Buffer.from(sample))).equals(first)).toBe(true);
  expect(first.subarray(0, 10)).toEqual(Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3]));
});

it('compresses as well as one-block gzip, give or take a percent', async () => {
  const single = await execa('gzip', ['-6', '-c'], { input: sample, encoding: 'buffer' });
  expect((await parallelGzip(sample)).length).toBeLessThan(Buffer.from(single.stdout).length * 1.01);
});

it('handles empty input', async () => {
  expect(gunzipSync(await parallelGzip(Buffer.alloc(0))).length).toBe(0);
});
