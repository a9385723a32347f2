import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { sha256Hex } from '@changemaker/oci';
import { startFaultProxy, type FaultProxy, type FaultRule, type StoredRelease } from '@changemaker/testing';
import { manifestFileName, signatureNamespace, signerPrincipal, type ReleaseManifest } from '@changemaker/release-contract';
import { addThirdPartyImage, makeFeatureChange, readImageResults, rehearsedServices, startReleaseRehearsal, type ReleaseRehearsal } from '../../../../demo/release-rehearsal';


/**
 * `nx release` as a user runs it, end to end and for real: buildah images pushed to the CNCF
 * registry on loopback, a bare git origin, the Gitea test server (its answers checked against
 * Gitea's swagger). Assertions read the registry's and Gitea's own APIs.
 */
describe('nx release', () => {
  let rehearsal: ReleaseRehearsal;
  let proxy: FaultProxy;
  const v1: Record<string, string> = {};
  let featureCommitted = false;

  beforeAll(async () => {
    rehearsal = await startReleaseRehearsal();
    proxy = await startFaultProxy(rehearsal.testbed.registry.host);
    const mirrored = await rehearsal.nx(['run', 'docker:mirror-images', `--manifest=${rehearsal.mirrorList}`]);
    expect(mirrored.exitCode).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await proxy?.stop();
    await rehearsal?.stop();
  });

  afterEach(() => {
    expect(rehearsal.gitea.violations()).toEqual([]);
  });

  const registry = () => `${rehearsal.testbed.registry.host}/admin`;
  const digestOf = async (name: string, tag: string, host = rehearsal.testbed.registry.host) => {
    const response = await fetch(`http://${host}/v2/admin/${name}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json' },
    });
    return response.ok ? response.headers.get('docker-content-digest') : null;
  };
  const published = (tag: string) => rehearsal.gitea.releases().filter((release) => release.tagName === tag);
  /** Nothing public: only the claim the image tasks made before pushing (release-claim.ts), a draft with no files. */
  const claimOnly = (tag: string) => JSON.stringify(published(tag).map((release) => [release.draft, release.attachments.length])) === '[[true,0]]';
  const remoteTags = async () => (await execa('git', ['-C', rehearsal.remote, 'tag', '--list'])).stdout.split('\n').filter(Boolean);
  const manifestOf = (tag: string): ReleaseManifest => {
    const asset = published(tag)[0]?.attachments.find((attachment) => attachment.name === manifestFileName);
    return JSON.parse(asset?.bytes.toString('utf8') ?? '{}') as ReleaseManifest;
  };
  const expectNoSecrets = (output: unknown) => expect(String(output)).not.toContain(rehearsal.token);

  it('nx release 1.0.0 publishes everything: images under v1.0.0, the tarball, a public Gitea release, the commit and tag on origin', async () => {
    const result = await rehearsal.nx(['release', '1.0.0', '--yes']);
    expect(result.exitCode).toBe(0);
    expectNoSecrets(result.all);
    for (const service of rehearsedServices) {
      v1[service] = (await digestOf(`changemaker-${service}`, 'v1.0.0')) ?? 'missing';
      expect(v1[service]).toMatch(/^sha256:/);
    }
    const [release] = published('v1.0.0');
    expect(release).toMatchObject({ draft: false, title: 'v1.0.0' });
    expect(release?.attachments.map((asset) => asset.name).sort()).toEqual(['SHA256SUMS', 'SHA256SUMS.sig', 'changemaker-lite-latest.tar.gz', 'changemaker-lite-v1.0.0.tar.gz', 'release-manifest.json']);
    const manifest = manifestOf('v1.0.0');
    for (const image of manifest.images) {
      const [name, tag] = image.reference.slice(registry().length + 1).split(':');
      expect(image.digest).toBe(await digestOf(name!, tag!));
    }
    const asset = (name: string) => release?.attachments.find((attachment) => attachment.name === name)?.bytes ?? Buffer.alloc(0);
    const signature = join(rehearsal.workspace.root, 'tmp', 'SHA256SUMS.sig');
    await mkdir(dirname(signature), { recursive: true });
    await writeFile(signature, asset('SHA256SUMS.sig'));
    const verified = await execa('ssh-keygen', ['-Y', 'verify', '-f', rehearsal.allowedSigners, '-I', signerPrincipal, '-n', signatureNamespace, '-s', signature], { input: asset('SHA256SUMS'), reject: false });
    expect(verified.exitCode).toBe(0);
    expect(asset('SHA256SUMS').toString()).toContain(`${sha256Hex(asset('changemaker-lite-v1.0.0.tar.gz'))}  changemaker-lite-v1.0.0.tar.gz`);
    const digests = await execa('tar', ['xzOf', '-', 'changemaker-lite/image-digests.txt'], { input: asset('changemaker-lite-v1.0.0.tar.gz') });
    expect(digests.stdout.split('\n')).toEqual(manifest.images.map((image) => `${image.service} ${image.reference} ${image.digest}`));
    expect(await remoteTags()).toEqual(['v1.0.0']);
    expect((await rehearsal.workspace.git('show', 'HEAD:docker/VERSION')).trim()).toBe('v1.0.0');
  }, 300_000);

  it.each([[['--dry-run']], [['--dry-run', '--yes']]])('nx release %s after a feat change plans 1.1.0 and changes nothing: git, files, registry, Gitea, origin', async (flags) => {
    if (!featureCommitted) {
      await makeFeatureChange(rehearsal, 'api');
      featureCommitted = true;
    }
    const before = await observableState();
    const result = await rehearsal.nx(['release', ...flags]);
    expect(result.exitCode).toBe(0);
    expect(result.all).toContain('1.1.0');
    expect(result.all).toMatch(/changemaker-api \[[^\]]*v1\.1\.0[^\]]*\]: build \(no image of these inputs/);
    for (const service of ['media-api', 'admin', 'nginx']) {
      expect(result.all).toMatch(new RegExp(`changemaker-${service} \\[[^\\]]*\\]: tag registry-side from v1\\.0\\.0 \\(${v1[service]}\\)`));
    }
    expect(result.all).toContain("report the service's features at /api/version");
    // The product's image check in a dry run: the image tasks pushed nothing, so it says who would.
    expect(result.all).toMatch(/api: \S+\/changemaker-api:v1\.1\.0 \(a real run pushes it first: api:nx-release-publish\)/);
    expect(result.all).toContain('changemaker-lite-v1.1.0.tar.gz');
    expect(result.all).toContain('POST /repos/admin/changemaker.lite/releases: create v1.1.0 as a draft');
    expect(result.all).toContain('git push --atomic origin HEAD:refs/heads/main refs/tags/v1.1.0');
    expect(await observableState()).toEqual(before);
  }, 300_000);

  it('a dry run with no token and an unreachable registry and Gitea still plans, saying what it could not check', async () => {
    const before = await observableState();
    const closed = 'http://127.0.0.1:9';
    const result = await rehearsal.nx(['release', '--dry-run', '--yes'], { env: { GITEA_REGISTRY_API_TOKEN: '', GITEA_URL: closed, GITEA_REGISTRY: '127.0.0.1:9/admin' } });
    expect(result.exitCode).toBe(0);
    expect(result.all).toContain('not checked, could not ask the registry');
    expect(result.all).toContain('images not checked');
    expect(result.all).toContain('Gitea not asked');
    // A dry run asks each server once: a plan does not wait out the retries of a server that is down.
    expect(result.all).toContain('failed after 1 attempt');
    expect(result.all).not.toMatch(/retrying|attempt 2/);
    // What it could not look at, it says so where it would have: no stage claims to have checked it.
    expect(result.all).toMatch(/images: done\n\s+registry not reached, so no image was checked: /);
    expect(result.all).toMatch(/gitea-lookup: done\n\s+Gitea not asked \(/);
    expect(await observableState()).toEqual(before);
  }, 300_000);

  it('nx release gives 1.1.0: only the changed image is built, the others keep their v1.0.0 digests, and the notes are the CHANGELOG section', async () => {
    const result = await rehearsal.nx(['release', '--yes']);
    expect(result.exitCode).toBe(0);
    expect((await readImageResults(rehearsal)).get('api')?.built).toBe(true);
    expect(await digestOf('changemaker-api', 'v1.1.0')).not.toBe(v1['api']);
    for (const service of ['media-api', 'admin', 'nginx']) expect(await digestOf(`changemaker-${service}`, 'v1.1.0')).toBe(v1[service]);
    // Every image is at v1.1.0 and the release is public: the product's task, whose images stage
    // checks each of them, ran after every image task, though docker/project.json lists none of them.
    const [release] = published('v1.1.0');
    expect(release?.draft).toBe(false);
    expect(release?.note).toContain("report the service's features at /api/version");
    expect(release?.note).toMatch(new RegExp(`\\(\\[[0-9a-f]{7}\\]\\(${rehearsal.gitea.url}/admin/changemaker.lite/commit/[0-9a-f]{7}\\)\\)`));
    expect(release?.note).toContain(`All changes: [v1.0.0...v1.1.0](${rehearsal.gitea.url}/admin/changemaker.lite/compare/v1.0.0...v1.1.0)`);
    const changelog = await readFile(join(rehearsal.workspace.root, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toContain(`## [1.1.0](${rehearsal.gitea.url}/admin/changemaker.lite/compare/v1.0.0...v1.1.0)`);
    expect(await remoteTags()).toEqual(['v1.0.0', 'v1.1.0']);
    for (const asset of release?.attachments ?? []) {
      const local = await readFile(join(rehearsal.workspace.root, 'dist/release', asset.name));
      expect(sha256Hex(asset.bytes)).toBe(sha256Hex(local));
    }
  }, 300_000);

  it('re-running nx release publish after a success publishes nothing twice, and its dry run says so first', async () => {
    const writes = () => rehearsal.gitea.requests().filter((request) => request.method !== 'GET').length;
    const before = writes();
    // The dry run reads the digests of the images already at v1.1.0, as the real run records them,
    // so it packages the same assets and finds them published (it had found "other assets" and failed).
    const state = await observableState();
    const planned = await rehearsal.nx(['release', 'publish', '--dry-run']);
    expect(planned.exitCode).toBe(0);
    expect(planned.all).toContain('v1.1.0 is already published with exactly these assets');
    expect(planned.all).toMatch(new RegExp(`media-api: \\S+/changemaker-media-api:v1\\.1\\.0 ${v1['media-api']}`));
    expect(await observableState()).toEqual(state);
    const result = await rehearsal.nx(['release', 'publish']);
    expect(result.exitCode).toBe(0);
    expect(result.all).toContain('v1.1.0 was already published with these assets');
    expect(writes()).toBe(before);
    expect(published('v1.1.0')).toHaveLength(1);

    // A clone whose origin pushes elsewhere (GitHub, with Gitea a mirror) is refused before the publish step writes anything.
    const elsewhere = `${rehearsal.gitea.url}/someone-else/${rehearsal.gitea.repo}.git`;
    await rehearsal.workspace.git('remote', 'set-url', '--push', 'origin', elsewhere);
    try {
      const refused = await rehearsal.nx(['release', 'publish']);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.all).toContain(`git remote origin pushes to ${elsewhere}, not to ${rehearsal.gitea.url}/${rehearsal.gitea.owner}/${rehearsal.gitea.repo}, where the release is published`);
      expect(refused.all).toContain('nothing was pushed or published: then re-run nx release publish');
      expect(writes()).toBe(before);
    } finally {
      await rehearsal.workspace.git('config', '--unset', 'remote.origin.pushurl');
    }
  }, 300_000);

  it('nx release publish without a signing key, or with one the product does not trust, pushes no image under the version and makes no Gitea release; with the key it then publishes', async () => {
    // Cut without publishing (nx release checks no secret of publishing then), and published alone:
    // nx release publish runs no version step, so no preflight checks the key before its image tasks.
    const cut = await rehearsal.nx(['release', 'patch', '--skip-publish']);
    expect(cut.exitCode).toBe(0);
    expect(await rehearsal.workspace.git('tag', '--points-at', 'HEAD')).toBe('v1.1.1');
    const releaseCommit = await rehearsal.workspace.git('rev-parse', 'HEAD');
    const requests = rehearsal.gitea.requests().length;
    const unsigned = await rehearsal.nx(['release', 'publish'], { env: { RELEASE_SIGNING_KEY_FILE: '' } });
    expect(unsigned.exitCode).not.toBe(0);
    expect(unsigned.all).toContain(
      'nothing was pushed under v1.1.1 and no Gitea release was made: no release signing key: set RELEASE_SIGNING_KEY_FILE (a path) or RELEASE_SIGNING_KEY (the key); install.sh and upgrade.sh refuse an unsigned release',
    );
    const otherKey = join(rehearsal.workspace.root, 'tmp', 'other-key');
    await mkdir(dirname(otherKey), { recursive: true });
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const key = (await readFile(otherKey, 'utf8')).trim();
    const untrusted = await rehearsal.nx(['release', 'publish'], { env: { RELEASE_SIGNING_KEY_FILE: '', RELEASE_SIGNING_KEY: key } });
    expect(untrusted.exitCode).not.toBe(0);
    expect(untrusted.all).toContain('nothing was pushed under v1.1.1 and no Gitea release was made: the signing key from RELEASE_SIGNING_KEY is not in docker/allowed_signers or baked_allowed_signers in docker/scripts/install.sh');
    expect(untrusted.all).not.toContain(key.split('\n')[1]);
    // The product's task never ran: its image tasks failed first.
    for (const output of [unsigned.all, untrusted.all]) expect(output).not.toMatch(/\[\d+\/\d+\] (package-plan|images)/);
    for (const service of rehearsedServices) {
      expect(await digestOf(`changemaker-${service}`, 'v1.1.1')).toBeNull();
      expect(await digestOf(`changemaker-${service}`, releaseCommit)).toBeNull();
    }
    expect(published('v1.1.1')).toEqual([]);
    expect(rehearsal.gitea.requests().slice(requests)).toEqual([]);

    // Nothing to undo: with the key, the same command publishes the release.
    const finished = await rehearsal.nx(['release', 'publish']);
    expect(finished.exitCode).toBe(0);
    expect(published('v1.1.1').map((release) => release.draft)).toEqual([false]);
    for (const service of rehearsedServices) expect(await digestOf(`changemaker-${service}`, 'v1.1.1')).toBe(await digestOf(`changemaker-${service}`, 'v1.1.0'));
  }, 300_000);

  it('an unmirrored third-party image stops the release before anything is public, naming it and the fix; nx release publish then completes it', async () => {
    const extra = await addThirdPartyImage(rehearsal, 'extra-cache:1.0');
    const failed = await rehearsal.nx(['release', '--yes']);
    expect(failed.exitCode).not.toBe(0);
    expect(failed.all).toContain(`extra-cache (${registry()}/extra-cache:1.0: mirror it: npx nx run docker:mirror-images)`);
    expect(claimOnly('v1.2.0')).toBe(true);
    expect(await remoteTags()).not.toContain('v1.2.0');

    await extra.mirror();
    const finished = await rehearsal.nx(['release', 'publish']);
    expect(finished.exitCode).toBe(0);
    expect(published('v1.2.0').map((release) => release.draft)).toEqual([false]);
    expect(manifestOf('v1.2.0').images.find((image) => image.service === 'extra-cache')?.digest).toBe(await digestOf('extra-cache', '1.0'));
  }, 300_000);

  it('the registry going down while images are tagged leaves nothing public; nx release publish then finishes it with the same digests', async () => {
    await writeFile(join(rehearsal.workspace.root, 'docker/.env.example'), `${await readFile(join(rehearsal.workspace.root, 'docker/.env.example'), 'utf8')}# a note for operators\n`);
    await rehearsal.workspace.commitAll('fix(docker): a note for operators in .env.example');
    const throughProxy = { GITEA_REGISTRY: `${proxy.host}/admin` };
    const outage: FaultRule = { method: 'PUT', path: /\/manifests\//, fault: { kind: 'drop' }, times: 1000 };
    proxy.addFault(outage);
    const failed = await rehearsal.nx(['release', '--yes'], { env: throughProxy });
    expect(failed.exitCode).not.toBe(0);
    expect(claimOnly('v1.2.1')).toBe(true);
    expect(await remoteTags()).not.toContain('v1.2.1');

    outage.times = 0;
    const finished = await rehearsal.nx(['release', 'publish'], { env: throughProxy });
    expect(finished.exitCode).toBe(0);
    expect(published('v1.2.1').map((release) => release.draft)).toEqual([false]);
    for (const service of ['media-api', 'admin', 'nginx']) expect(await digestOf(`changemaker-${service}`, 'v1.2.1')).toBe(v1[service]);
  }, 300_000);

  it('Gitea answering 500 on the publishing PATCH: the push of the tag has already published the draft, complete; nx release publish finishes its notes', async () => {
    await writeFile(join(rehearsal.workspace.root, 'docker/.env.example'), `${await readFile(join(rehearsal.workspace.root, 'docker/.env.example'), 'utf8')}# another note\n`);
    await rehearsal.workspace.commitAll('fix(docker): another note for operators');
    rehearsal.gitea.faults.failPublishingPatch(20);
    const failed = await rehearsal.nx(['release', '--yes']);
    expect(failed.exitCode).not.toBe(0);
    expect(failed.all).toContain('Gitea answered 500 to publishing v1.2.2');
    // Gitea publishes a draft as it stands when its tag is pushed: every asset was verified and the
    // notes were set before the push, so what became public is the whole release.
    const [public122] = published('v1.2.2');
    expect(public122?.draft).toBe(false);
    expect(public122?.attachments.map((asset) => asset.name).sort()).toEqual(['SHA256SUMS', 'SHA256SUMS.sig', 'changemaker-lite-latest.tar.gz', 'changemaker-lite-v1.2.2.tar.gz', 'release-manifest.json']);
    expect(public122?.note).toContain('another note for operators');
    expect(public122?.note).toContain('<!-- publish-release draft');

    rehearsal.gitea.faults.reset();
    // Finished on a machine whose Node has another zlib: the same tar, other gzip bytes. Played by
    // the public release holding another deflate's bytes (gzip's) of the same tar.
    const original = public122!.attachments.map((asset) => ({ ...asset }));
    await recompressPublicRelease(public122!, 'gzip 1.12, level 6');
    const tampered = public122!.attachments.map((asset) => sha256Hex(asset.bytes));
    const refused = await rehearsal.nx(['release', 'publish']);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.all).toContain(
      "v1.2.2 is public (Gitea published it when its tag arrived) and its files are the ones packaged here, but its gzip bytes came from gzip 1.12, level 6, and this Node compresses with node zlib ",
    );
    expect(refused.all).toContain('finishing it here would replace its assets in public, so nothing was changed; finish it with npx nx release publish where Node has gzip 1.12');
    expect(published('v1.2.2')[0]!.attachments.map((asset) => sha256Hex(asset.bytes))).toEqual(tampered);
    public122!.attachments.splice(0, public122!.attachments.length, ...original);

    const finished = await rehearsal.nx(['release', 'publish']);
    expect(finished.exitCode).toBe(0);
    expect(finished.all).toContain('keep changemaker-lite-v1.2.2.tar.gz');
    expect(published('v1.2.2').map((release) => [release.id, release.draft])).toEqual([[public122?.id, false]]);
    expect(published('v1.2.2')[0]?.note).toContain('another note for operators');
    expect(published('v1.2.2')[0]?.note).not.toContain('publish-release draft');
  }, 300_000);

  it('refuses to touch a tag already published with other assets, saying how to go on', async () => {
    const [release] = published('v1.2.2');
    release?.attachments.pop();
    const writes = rehearsal.gitea.requests().filter((request) => request.method !== 'GET').length;
    const refused = await rehearsal.nx(['release', 'publish']);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.all).toContain('v1.2.2 is already published with other assets');
    expect(refused.all).toContain('npx nx run docker:publish-release --tag v1.2.2 --replace');
    expect(rehearsal.gitea.requests().filter((request) => request.method !== 'GET').length).toBe(writes);
  }, 300_000);

  it('nx release of a pre-release version (1.3.0-rc.1) publishes a Gitea pre-release: releases/latest stays on the last stable release, as install.sh and upgrade.sh do', async () => {
    const result = await rehearsal.nx(['release', '1.3.0-rc.1', '--yes']);
    expect(result.exitCode).toBe(0);
    expect(published('v1.3.0-rc.1').map((release) => [release.draft, release.prerelease])).toEqual([[false, true]]);
    const latest = await fetch(`${rehearsal.gitea.url}/api/v1/repos/admin/changemaker.lite/releases/latest`);
    expect(((await latest.json()) as { tag_name: string }).tag_name).toBe('v1.2.2');
  }, 300_000);

  it('nx release on a branch of an older line (release/1.0 after v1.2.2) releases v1.0.1 from v1.0.0, leaving latest with v1.2.2, and install.sh still takes v1.2.2', async () => {
    const git = (...args: string[]) => rehearsal.workspace.git(...args);
    const latestBefore = await digestOf('changemaker-api', 'latest');
    expect(latestBefore).toBe(await digestOf('changemaker-api', 'v1.2.2'));
    await git('switch', '-q', '-c', 'release/1.0', 'v1.0.0');
    try {
      const app = join(rehearsal.workspace.root, 'apps/api/src/app.ts');
      await writeFile(app, (await readFile(app, 'utf8')).replace('  return app;', "  app.get('/api/line', (_request, response) => {\n    response.json({ line: '1.0' });\n  });\n  return app;"));
      await rehearsal.workspace.commitAll('fix(api): a fix for the 1.0 line');
      await git('push', '-q', '-u', 'origin', 'release/1.0');

      const result = await rehearsal.nx(['release', '--yes']);
      expect(result.exitCode).toBe(0);
      expect(result.all).toContain('latest stays where it is: v1.2.2 is a newer release than 1.0.1, which fixes an older line');
      const [release] = published('v1.0.1');
      expect([release?.draft, release?.prerelease]).toEqual([false, false]);
      expect(release?.note).toContain(`All changes: [v1.0.0...v1.0.1](${rehearsal.gitea.url}/admin/changemaker.lite/compare/v1.0.0...v1.0.1)`);
      expect(await digestOf('changemaker-api', 'v1.0.1')).not.toBe(v1['api']);
      expect(await digestOf('changemaker-api', 'latest')).toBe(latestBefore);
      expect(await execa('git', ['-C', rehearsal.remote, 'rev-parse', 'release/1.0']).then((answer) => answer.stdout)).toBe(await git('rev-parse', 'HEAD'));

      const install = await execa('bash', [join(rehearsal.workspace.root, 'docker/scripts/install.sh'), '--dry-run', '--no-config', '--allowed-signers', rehearsal.allowedSigners, '--dir', join(rehearsal.workspace.root, 'tmp/server')], {
        env: { GITEA_URL: rehearsal.env.GITEA_URL, GITEA_REPO: rehearsal.env.GITEA_REPO, GITEA_REGISTRY_API_TOKEN: rehearsal.token, PATH: process.env['PATH'] ?? '' },
        extendEnv: false,
        reject: false,
      });
      expect(install.stdout).toMatch(/^would install v1\.2\.2 from /);
    } finally {
      await git('switch', '-q', '--discard-changes', 'main');
    }
  }, 300_000);

  /** The release's tarballs deflated by gzip instead, its manifest saying so, and SHA256SUMS listing both: what another zlib would have published. */
  async function recompressPublicRelease(release: StoredRelease, gzip: string): Promise<void> {
    const sums: string[] = [];
    for (const asset of release.attachments) {
      if (asset.name.endsWith('.tar.gz')) {
        asset.bytes = (await execa('sh', ['-c', 'gunzip -c | gzip -n -6'], { input: asset.bytes, encoding: 'buffer' })).stdout as Buffer;
      } else if (asset.name === manifestFileName) {
        const manifest = JSON.parse(asset.bytes.toString('utf8')) as ReleaseManifest;
        asset.bytes = Buffer.from(`${JSON.stringify({ ...manifest, tarball: { ...manifest.tarball, gzip } }, null, 2)}\n`);
      } else continue;
      sums.push(`${sha256Hex(asset.bytes)}  ${asset.name}\n`);
    }
    release.attachments.find((asset) => asset.name === 'SHA256SUMS')!.bytes = Buffer.from(sums.join(''));
  }

  /** What a dry run must not touch: git refs and work tree, the product's files, the registry's tags, Gitea, origin. */
  async function observableState() {
    const git = (...args: string[]) => rehearsal.workspace.git(...args);
    const tags: Record<string, string[]> = {};
    const catalog = (await (await fetch(`${rehearsal.testbed.registry.url}/v2/_catalog?n=1000`)).json()) as { repositories: string[] };
    for (const repository of catalog.repositories) {
      tags[repository] = ((await (await fetch(`${rehearsal.testbed.registry.url}/v2/${repository}/tags/list`)).json()) as { tags: string[] }).tags.sort();
    }
    const releaseDir = await execa('sh', ['-c', 'ls -la --time-style=full-iso dist/release dist/images 2>/dev/null; sha256sum dist/release/* dist/images/* 2>/dev/null || true'], { cwd: rehearsal.workspace.root });
    return {
      refs: await git('for-each-ref', '--format=%(refname) %(objectname)'),
      head: await git('rev-parse', 'HEAD'),
      status: await git('status', '--porcelain', '--untracked-files=all'),
      releaseFiles: releaseDir.stdout,
      registry: tags,
      gitea: JSON.stringify(rehearsal.gitea.releases()),
      origin: (await execa('git', ['-C', rehearsal.remote, 'for-each-ref', '--format=%(refname) %(objectname)'])).stdout,
    };
  }
});
