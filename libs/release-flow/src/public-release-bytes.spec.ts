import { ReleaseClient } from '@changemaker/gitea';
import type { ReleaseArtifacts } from '@changemaker/release-bundle';
import type { ReleaseManifest } from '@changemaker/release-contract';
import { startGiteaServer, type TestGiteaServer } from '@changemaker/testing';
import { publicReleaseBytesProblem } from './public-release-bytes';

const token = 'tok-public-bytes-7d21';

describe('our own release, public since its tag arrived, finished from another machine', () => {
  let gitea: TestGiteaServer;
  let client: ReleaseClient;
  beforeAll(async () => {
    gitea = await startGiteaServer({ tokens: { [token]: { login: 'release-manager', canWrite: true } } });
    client = new ReleaseClient({ giteaUrl: gitea.url, repo: `${gitea.owner}/${gitea.repo}`, token });
  });
  afterAll(() => gitea?.stop());
  afterEach(() => gitea.releases().splice(0));

  const here = { tarSha256: 'a'.repeat(64), gzip: 'node zlib 1.3.1-e00f703, level 6, 1 MiB blocks' };
  const packaged = (sums: string): ReleaseArtifacts =>
    ({ tarball: Buffer.alloc(0), manifest: { tarball: here } as ReleaseManifest, files: [{ name: 'SHA256SUMS', content: Buffer.from(sums) }] }) as ReleaseArtifacts;
  const publicRelease = async (sums: string, manifest: object | undefined) => {
    let id = 700;
    const attachment = (name: string, bytes: Buffer) => ({ id: ++id, uuid: `public-bytes-${id}`, name, bytes, createdAt: new Date().toISOString() });
    gitea.addRelease({
      tagName: 'v1.2.2',
      attachments: [attachment('SHA256SUMS', Buffer.from(sums)), ...(manifest ? [attachment('release-manifest.json', Buffer.from(JSON.stringify(manifest)))] : [])],
    });
    return (await client.getReleaseByTag('v1.2.2'))!;
  };

  it('lets it be finished when SHA256SUMS is the one packaged here: the other assets are then the same bytes', async () => {
    const existing = await publicRelease('same sums\n', { tarball: here });
    expect(await publicReleaseBytesProblem(client, existing, packaged('same sums\n'))).toBeUndefined();
  });

  it('says when only the gzip differs (the same tar, another zlib) and where to finish it', async () => {
    const existing = await publicRelease('their sums\n', { tarball: { tarSha256: here.tarSha256, gzip: 'node zlib 1.2.13, level 6, 1 MiB blocks' } });
    expect(await publicReleaseBytesProblem(client, existing, packaged('our sums\n'))).toBe(
      "v1.2.2 is public (Gitea published it when its tag arrived) and its files are the ones packaged here, but its gzip bytes came from node zlib 1.2.13, level 6, 1 MiB blocks, and this Node compresses with node zlib 1.3.1-e00f703, level 6, 1 MiB blocks: " +
        "finishing it here would replace its assets in public, so nothing was changed; finish it with npx nx release publish where Node has node zlib 1.2.13 (Node's official builds bundle their zlib), or leave it: its assets are complete, only its notes are unfinished",
    );
  });

  it('says when the files differ, or were packaged before the manifest recorded its tar', async () => {
    const other = await publicRelease('their sums\n', { tarball: { tarSha256: 'b'.repeat(64), gzip: here.gzip } });
    expect(await publicReleaseBytesProblem(client, other, packaged('our sums\n'))).toMatch(
      /^v1\.2\.2 is public \(Gitea published it when its tag arrived\) and its files are not the ones packaged here \(tar sha256 bbbbbbbbbbbb there, aaaaaaaaaaaa here\): finishing it here would replace its assets in public, so nothing was changed; finish it from the checkout and toolchain that packaged it/,
    );
    gitea.releases().splice(0);
    const older = await publicRelease('their sums\n', undefined);
    expect(await publicReleaseBytesProblem(client, older, packaged('our sums\n'))).toContain('(tar sha256 not recorded there, aaaaaaaaaaaa here)');
  });
});
