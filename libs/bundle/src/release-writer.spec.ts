import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ReleaseWriteError } from './bundle-errors';
import { writeReleaseArtifacts, type ReleaseArtifacts } from './release-writer';

describe('writing the release files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-release-writer-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const artifacts = (version: string): ReleaseArtifacts => ({
    tarball: Buffer.from(`tarball ${version}`),
    manifest: {} as ReleaseArtifacts['manifest'],
    files: [
      { name: `changemaker-lite-${version}.tar.gz`, content: Buffer.from(`tarball ${version}`) },
      { name: 'SHA256SUMS', content: Buffer.from(`sums ${version}\n`) },
    ],
  });

  it('removes the temporary files of a write that was killed, and leaves those of a writer still running', async () => {
    const dead = (await execa(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])).stdout;
    await writeFile(join(dir, `SHA256SUMS.partial-${dead}`), 'half');
    await writeFile(join(dir, `changemaker-lite-v1.0.0.tar.gz.partial-${dead}`), 'half');
    const writer = execa(process.execPath, ['-e', 'setTimeout(() => undefined, 60_000)']);
    const running = `changemaker-lite-v1.1.0.tar.gz.partial-${writer.pid}`;
    await writeFile(join(dir, running), 'being written');

    const written = await writeReleaseArtifacts(artifacts('v1.1.0'), dir).finally(() => writer.kill());
    await writer.catch(() => undefined);
    expect(written.map((file) => file.path)).toEqual([join(dir, 'changemaker-lite-v1.1.0.tar.gz'), join(dir, 'SHA256SUMS')]);
    expect((await readdir(dir)).sort()).toEqual(['SHA256SUMS', 'changemaker-lite-v1.1.0.tar.gz', running].sort());
    expect(await readFile(join(dir, 'SHA256SUMS'), 'utf8')).toBe('sums v1.1.0\n');
  });

  it('removes the signature an earlier signed packaging left, which signs other checksums, when the new release is unsigned', async () => {
    const signed = artifacts('v1.0.0');
    await writeReleaseArtifacts({ ...signed, files: [...signed.files, { name: 'SHA256SUMS.sig', content: Buffer.from('signature of sums v1.0.0\n') }] }, dir);
    await writeReleaseArtifacts(artifacts('v1.1.0'), dir);
    expect((await readdir(dir)).sort()).toEqual(['SHA256SUMS', 'changemaker-lite-v1.0.0.tar.gz', 'changemaker-lite-v1.1.0.tar.gz']);
  });

  it('says in one line that the output directory cannot be written, as a BundleError the executor reports', async () => {
    await writeFile(join(dir, 'dist'), 'a file where the directory should be');
    const writing = writeReleaseArtifacts(artifacts('v1.1.0'), join(dir, 'dist', 'release'));
    await expect(writing).rejects.toThrow(ReleaseWriteError);
    await expect(writing).rejects.toThrow(`${join(dir, 'dist', 'release')}: the release files could not be written there (ENOTDIR: not a directory); fix it or choose another --output-dir`);
  });
});
