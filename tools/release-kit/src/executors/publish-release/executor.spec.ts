import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { execa } from 'execa';
import { abandonedClaimAge, claimNameFor, ReleaseClient } from '@changemaker/gitea';
import { buildReleaseArtifacts, writeReleaseArtifacts } from '@changemaker/release-bundle';
import { startGiteaServer, type StoredRelease, type TestGiteaServer } from '@changemaker/testing';
import runExecutor from './executor';
import type { PublishReleaseOptions } from './schema';

const token = 'gitea-secret-4b1d9e77c2a8';
const version = '1.4.0';
const tag = `v${version}`;
const assetNames = ['SHA256SUMS', `changemaker-lite-${tag}.tar.gz`, 'changemaker-lite-latest.tar.gz', 'release-manifest.json'].sort();

describe('publish-release executor', () => {
  let gitea: TestGiteaServer;
  let root: string;
  let lines: string[];
  let stdout: string[];
  const savedEnv = { ...process.env };

  beforeEach(async () => {
    gitea = await startGiteaServer({
      tokens: { [token]: { login: 'ci', canWrite: true }, 'read-only': { login: 'viewer', canWrite: false } },
      attachmentMaxSize: 512 * 1024,
      maxPageSize: 3,
    });
    root = await mkdtemp(join(tmpdir(), 'publish-release-'));
    await packageRelease(join(root, 'dist/release'));
    await writeFile(join(root, 'CHANGELOG.md'), `# Changelog\n\n## [${version}] - 2026-11-25\n\n### Features\n\n- release notes from the changelog\n\n## [1.3.0]\n\n- older\n`);
    process.env['GITEA_URL'] = gitea.url;
    process.env['GITEA_REPO'] = 'admin/changemaker.lite';
    process.env['GITEA_REGISTRY_API_TOKEN'] = token;
    lines = [];
    stdout = [];
    jest.spyOn(console, 'log').mockImplementation((...args) => void (lines.push(args.join(' ')), stdout.push(args.join(' '))));
    jest.spyOn(console, 'error').mockImplementation((...args) => void lines.push(args.join(' ')));
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    process.env = { ...savedEnv };
    expect(gitea.violations()).toEqual([]);
    for (const line of lines) expect(line).not.toContain(token);
    for (const request of gitea.requests()) expect(request.url).not.toContain(token);
    await gitea.stop();
    await rm(root, { recursive: true, force: true });
  });

  const context = (nxJsonConfiguration = {}) => ({ root, cwd: root, isVerbose: false, projectName: 'docker', targetName: 'publish-release', nxJsonConfiguration }) as unknown as ExecutorContext;
  const run = (options: Partial<PublishReleaseOptions> = {}, inputDir = 'dist/release', nxJson = {}) =>
    runExecutor(
      { inputDir, bundleRoot: 'changemaker-lite', replace: false, dryRun: false, draft: false, prerelease: false, json: false, retries: 4, retryDelay: 1, ...options },
      context(nxJson),
    );
  const releasesAt = (wanted: string) => gitea.releases().filter((r) => r.tagName === wanted);
  const writes = () => gitea.requests().filter((r) => r.method !== 'GET');
  const localBytes = (name: string, dir = 'dist/release') => readFile(join(root, dir, name));
  const output = () => lines.join('\n');

  async function expectPublishedWithLocalFiles(release: StoredRelease, dir = 'dist/release') {
    expect(release.draft).toBe(false);
    expect(release.attachments.map((a) => a.name).sort()).toEqual(assetNames);
    for (const attachment of release.attachments) expect(attachment.bytes.equals(await localBytes(attachment.name, dir))).toBe(true);
  }

  async function expectInvisibleToUsers() {
    const anonymous = await fetch(`${gitea.url}/api/v1/repos/admin/changemaker.lite/releases`);
    expect(Number(anonymous.headers.get('x-total-count'))).toBe(gitea.releases().filter((r) => !r.draft).length);
    expect((await fetch(`${gitea.url}/api/v1/repos/admin/changemaker.lite/releases/tags/${tag}`)).status).toBe(404);
  }

  it('creates a draft, uploads and verifies every asset, then publishes with one PATCH carrying the changelog notes', async () => {
    expect(await run()).toEqual({ success: true });
    const [release] = releasesAt(tag);
    await expectPublishedWithLocalFiles(release!);
    expect(release!.note).toBe('### Features\n\n- release notes from the changelog');
    const create = writes()[0]!;
    expect(create).toMatchObject({ method: 'POST', url: '/api/v1/repos/admin/changemaker.lite/releases' });
    const releasePatches = writes().filter((r) => r.method === 'PATCH');
    expect(releasePatches).toHaveLength(1);
    expect(writes().at(-1)).toBe(releasePatches[0]);
    expect(writes().filter((r) => r.url.includes('/assets?name='))).toHaveLength(4);
    expect(output()).toMatch(/Created v1\.4\.0: published with 4 assets at http:\/\/127\.0\.0\.1:\d+\/admin\/changemaker\.lite\/releases\/tag\/v1\.4\.0/);
    expect(output()).toContain('warning: v1.4.0 is unsigned (no SHA256SUMS.sig in dist/release): no release signing key: set RELEASE_SIGNING_KEY_FILE');
  });

  it('publishes a signed package with its signature and no warning', async () => {
    const dir = join(root, 'dist/release');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(root, 'key')]);
    await execa('ssh-keygen', ['-Y', 'sign', '-f', join(root, 'key'), '-n', 'changemaker-lite-release', join(dir, 'SHA256SUMS')]);
    expect(await run()).toEqual({ success: true });
    expect(releasesAt(tag)[0]!.attachments.map((a) => a.name)).toContain('SHA256SUMS.sig');
    expect(output()).not.toContain('unsigned');
  });

  it('--dry-run prints every call in order with sizes and sha256, needs no token, and changes nothing', async () => {
    delete process.env['GITEA_REGISTRY_API_TOKEN'];
    expect(await run({ dryRun: true })).toEqual({ success: true });
    expect(writes()).toEqual([]);
    expect(gitea.releases()).toEqual([]);
    const plan = lines.filter((line) => /^\[\d+\/\d+\]/.test(line));
    expect(plan.map((line) => line.split(':')[0])).toEqual([
      '[1/7] POST /repos/admin/changemaker.lite/releases',
      ...[`changemaker-lite-${tag}.tar.gz`, 'changemaker-lite-latest.tar.gz', 'SHA256SUMS', 'release-manifest.json'].map(
        (name, i) => `[${i + 2}/7] POST /repos/admin/changemaker.lite/releases/{id}/assets?name=${name}`,
      ),
      '[6/7] GET /repos/admin/changemaker.lite/releases/{id}/assets, then each asset\'s download',
      '[7/7] PATCH /repos/admin/changemaker.lite/releases/{id}',
    ]);
    const { stdout: sums } = await execa('sha256sum', assetNames, { cwd: join(root, 'dist/release') });
    for (const line of sums.split('\n')) {
      const [sha256, name] = line.split(/\s+/);
      const size = (await localBytes(name!)).length;
      expect(plan.find((l) => l.includes(`name=${name}`))).toContain(`(${size} bytes, sha256 ${sha256})`);
    }
    expect(output()).toMatch(/nothing was changed/);
  });

  it('--dry-run still prints the plan when Gitea cannot be reached, saying what it assumed, asking once rather than waiting out the retries', async () => {
    const port = gitea.url.split(':').at(-1);
    await gitea.stop();
    gitea = await startGiteaServer();
    process.env['GITEA_URL'] = `http://127.0.0.1:${port}`;
    expect(await run({ dryRun: true, retries: 4 })).toEqual({ success: true });
    expect(output()).toMatch(/failed after 1 attempt.*; planned as if no release exists for v1\.4\.0/);
    expect(output()).not.toMatch(/retrying/);
    expect(lines.filter((line) => /^\[\d+\/7\]/.test(line))).toHaveLength(7);
  });

  it("is a dry run under nx release publish --dry-run (NX_DRY_RUN), whatever its own options say: plans, changes nothing", async () => {
    process.env['NX_DRY_RUN'] = 'true';
    expect(await run({ dryRun: false })).toEqual({ success: true });
    expect(writes()).toEqual([]);
    expect(gitea.releases()).toEqual([]);
    expect(output()).toMatch(/^Dry run: plan to publish v1\.4\.0/m);
    expect(output()).toMatch(/nothing was changed/);
  });

  it('with nothing packaged in the input directory, says how to package it, on the project it runs on, and sends nothing', async () => {
    const stack = { ...context(), projectName: 'stack' } as ExecutorContext;
    expect(await runExecutor({ inputDir: 'dist/elsewhere', tag, bundleRoot: 'changemaker-lite', replace: false, dryRun: false, draft: false, prerelease: false, json: false, retries: 4, retryDelay: 1 }, stack)).toEqual({ success: false });
    expect(output()).toContain(
      `${join(root, 'dist/elsewhere/SHA256SUMS')} not found: nothing is packaged there. Package first (npx nx run stack:package-release --tag ${tag}), pass --input-dir, or plan the whole release with npx nx release publish --dry-run.`,
    );
    expect(gitea.requests()).toEqual([]);
  });

  it('refuses an existing release without --replace, naming the tag, its URL, why, and how to bump or replace', async () => {
    gitea.addRelease({ tagName: tag, note: 'the original' });
    const before = JSON.stringify(gitea.releases());
    expect(await run()).toEqual({ success: false });
    expect(output()).toContain(`A release for ${tag} already exists: ${gitea.url}/admin/changemaker.lite/releases/tag/${tag}`);
    expect(output()).toMatch(/immutable.*no update available.*Bump the version.*--replace/s);
    expect(writes()).toEqual([]);
    expect(JSON.stringify(gitea.releases())).toBe(before);
  });

  it('a publishing PATCH that keeps failing leaves an invisible draft; a re-run finds it among many releases and finishes it', async () => {
    for (let i = 0; i < 7; i += 1) gitea.addRelease({ tagName: `v0.${i}.0` });
    gitea.faults.failPublishingPatch(Infinity);
    expect(await run()).toEqual({ success: false });
    expect(output()).toMatch(new RegExp(`Gitea answered 500 to publishing ${tag.replace(/\./g, '\\.')}\\. .*The draft and its assets stay`));
    expect(releasesAt(tag)[0]?.draft).toBe(true);
    await expectInvisibleToUsers();
    gitea.faults.reset();
    const createsBefore = gitea.requests().filter((r) => r.method === 'POST' && r.url.endsWith('/releases')).length;
    expect(await run()).toEqual({ success: true });
    expect(gitea.requests().filter((r) => r.method === 'POST' && r.url.endsWith('/releases')).length).toBe(createsBefore);
    expect(gitea.requests().filter((r) => r.url.includes('/assets?name=')).length).toBe(4);
    expect(releasesAt(tag)).toHaveLength(1);
    await expectPublishedWithLocalFiles(releasesAt(tag)[0]!);
    expect(output()).toMatch(/Finished v1\.4\.0: published/);
  });

  it('retries a dropped upload connection and a 503, and still ends with one set of assets', async () => {
    gitea.faults.dropConnectionDuringUpload(1);
    gitea.faults.answerNext('GET', 503);
    expect(await run()).toEqual({ success: true });
    expect(output()).toMatch(/retrying POST .*assets \(attempt 2\/4\)/);
    expect(output()).toMatch(/retrying GET .*\(attempt 2\/4\).*status 503/);
    await expectPublishedWithLocalFiles(releasesAt(tag)[0]!);
  });

  it('uploads that keep losing their connection leave a draft nobody sees, and the re-run uploads what is missing', async () => {
    gitea.faults.dropConnectionDuringUpload(100);
    expect(await run()).toEqual({ success: false });
    expect(output()).toMatch(/failed after 4 attempts.*GITEA_URL/);
    expect(releasesAt(tag)[0]?.draft).toBe(true);
    await expectInvisibleToUsers();
    gitea.faults.reset();
    expect(await run()).toEqual({ success: true });
    await expectPublishedWithLocalFiles(releasesAt(tag)[0]!);
  });

  it('a create whose answer was lost is retried and the publisher continues its own draft instead of failing with 409', async () => {
    gitea.faults.loseNextCreateAnswer();
    expect(await run()).toEqual({ success: true });
    expect(releasesAt(tag)).toHaveLength(1);
    await expectPublishedWithLocalFiles(releasesAt(tag)[0]!);
  });

  it('an upload whose answer was lost is retried, and verification removes the extra copy', async () => {
    gitea.faults.loseNextUploadAnswer();
    expect(await run()).toEqual({ success: true });
    expect(gitea.requests().filter((r) => r.url.includes('/assets?name=')).length).toBe(5);
    expect(gitea.requests().filter((r) => r.method === 'DELETE')).toHaveLength(1);
    await expectPublishedWithLocalFiles(releasesAt(tag)[0]!);
  });

  it('uploads an asset again when the copy Gitea stored does not match what was sent', async () => {
    gitea.faults.corruptUploadsOf('SHA256SUMS', 1);
    expect(await run()).toEqual({ success: true });
    expect(output()).toMatch(/re-uploading SHA256SUMS: sha256 [0-9a-f]{64} differs/);
    await expectPublishedWithLocalFiles(releasesAt(tag)[0]!);
  });

  it('an asset that never arrives intact stops the publish and leaves nothing visible', async () => {
    gitea.faults.corruptUploadsOf(`changemaker-lite-${tag}.tar.gz`, 10);
    expect(await run()).toEqual({ success: false });
    expect(output()).toMatch(/changemaker-lite-v1\.4\.0\.tar\.gz could not be verified on Gitea \(still wrong after 3 uploads: sha256/);
    expect(releasesAt(tag)[0]?.draft).toBe(true);
    await expectInvisibleToUsers();
  });

  it('--replace swaps the assets and notes while the tag keeps a public release throughout', async () => {
    const old = gitea.addRelease({ tagName: tag, note: 'old notes' });
    old.attachments.push({ id: 900, uuid: 'old-uuid', name: `changemaker-lite-${tag}.tar.gz`, bytes: Buffer.from('old bytes'), createdAt: old.createdAt });
    const tagAlwaysPublic: boolean[] = [];
    gitea.observe((releases) => tagAlwaysPublic.push(releases.some((r) => r.tagName === tag && !r.draft)));
    expect(await run({ replace: true })).toEqual({ success: true });
    expect(tagAlwaysPublic.every(Boolean)).toBe(true);
    expect(releasesAt(tag)).toHaveLength(1);
    expect(releasesAt(tag)[0]!.id).toBe(old.id);
    await expectPublishedWithLocalFiles(releasesAt(tag)[0]!);
    const lastWrite = writes().at(-1)!;
    expect(lastWrite.method).toBe('PATCH');
    expect(lastWrite.url).toBe(`/api/v1/repos/admin/changemaker.lite/releases/${old.id}`);
    expect(releasesAt(tag)[0]!.note).toContain('release notes from the changelog');
    expect(writes().filter((r) => r.method === 'DELETE' && !r.url.includes('/assets/'))).toEqual([]);
  });

  it('--replace never leaves a usual asset name missing: polled after every request, each name is always there', async () => {
    const old = gitea.addRelease({ tagName: tag, note: 'old notes' });
    const usualNames = [`changemaker-lite-${tag}.tar.gz`, 'changemaker-lite-latest.tar.gz', 'release-manifest.json', 'SHA256SUMS'];
    usualNames.forEach((name, index) => old.attachments.push({ id: 950 + index, uuid: `old-${index}`, name, bytes: Buffer.from(`old ${name}`), createdAt: old.createdAt }));
    const missing: string[][] = [];
    gitea.observe((releases) => {
      const names = releases.find((r) => r.tagName === tag)?.attachments.map((a) => a.name) ?? [];
      const absent = usualNames.filter((name) => !names.includes(name));
      if (absent.length > 0) missing.push(absent);
    });
    expect(await run({ replace: true })).toEqual({ success: true });
    expect(missing).toEqual([]);
    await expectPublishedWithLocalFiles(releasesAt(tag)[0]!);
  });

  it('--dry-run --replace shows the existing release\'s id and the assets it would delete, and changes nothing', async () => {
    const old = gitea.addRelease({ tagName: tag });
    old.attachments.push({ id: 900, uuid: 'old-uuid', name: 'changemaker-lite-latest.tar.gz', bytes: Buffer.from('old'), createdAt: old.createdAt });
    const before = JSON.stringify(gitea.releases());
    expect(await run({ replace: true, dryRun: true })).toEqual({ success: true });
    expect(writes()).toEqual([]);
    expect(JSON.stringify(gitea.releases())).toBe(before);
    const plan = lines.filter((line) => /^\[\d+\/\d+\]/.test(line)).join('\n');
    expect(plan).toContain(`DELETE /repos/admin/changemaker.lite/releases/${old.id}/assets/900: delete changemaker-lite-latest.tar.gz (replaced)`);
    expect(plan).toMatch(/rename publishing-[0-9a-f]{8}-SHA256SUMS to SHA256SUMS/);
    expect(plan.split('\n').at(-1)).toContain(`PATCH /repos/admin/changemaker.lite/releases/${old.id}: update the notes and title last`);
  });

  it('a --replace interrupted after uploading cleans up its temporary assets on the next --replace', async () => {
    const old = gitea.addRelease({ tagName: tag });
    old.attachments.push({ id: 901, uuid: 'old-uuid', name: 'changemaker-lite-latest.tar.gz', bytes: Buffer.from('old'), createdAt: old.createdAt });
    gitea.faults.answerNext('DELETE', 500, 10);
    expect(await run({ replace: true, retries: 1 })).toEqual({ success: false });
    const [interrupted] = releasesAt(tag);
    expect(interrupted!.draft).toBe(false);
    const temporaries = interrupted!.attachments.map((a) => a.name).filter((name) => name.startsWith('publishing-'));
    // The uploads not yet renamed when the DELETE of the old asset the second one replaces failed,
    // and its claim: the DELETE that would withdraw it failed too.
    expect(temporaries.filter((name) => !name.includes('-claim-'))).toHaveLength(2);
    expect(temporaries.filter((name) => /^publishing-[0-9a-f]{8}-claim-[0-9a-f]{16}$/.test(name))).toHaveLength(1);
    gitea.faults.reset();
    expect(await run({ replace: true })).toEqual({ success: true });
    await expectPublishedWithLocalFiles(releasesAt(tag)[0]!);
  });

  it('of two --replace runs on one tag, one swaps the assets and the other changes nothing and says why', async () => {
    const old = gitea.addRelease({ tagName: tag, note: 'old notes' });
    old.attachments.push({ id: 900, uuid: 'old-uuid', name: `changemaker-lite-${tag}.tar.gz`, bytes: Buffer.from('old bytes'), createdAt: old.createdAt });
    await packageRelease(join(root, 'ci-b/dist/release'));
    const results = await Promise.all([run({ replace: true }, 'dist/release'), run({ replace: true }, 'ci-b/dist/release')]);
    expect(results.map((r) => r.success).sort()).toEqual([false, true]);
    expect(output()).toMatch(/Another --replace of v1\.4\.0 is in progress \(its claim publishing-[0-9a-f]{8}-claim-[0-9a-f]{16} was uploaded at \S+\), so nothing was changed/);
    expect(releasesAt(tag)).toHaveLength(1);
    await expectPublishedWithLocalFiles(releasesAt(tag)[0]!, results[0]!.success ? 'dist/release' : 'ci-b/dist/release');
  });

  it('a --replace finding another publisher\'s live claim withdraws its own and changes nothing', async () => {
    const old = gitea.addRelease({ tagName: tag });
    old.attachments.push({ id: 900, uuid: 'old-uuid', name: `changemaker-lite-${tag}.tar.gz`, bytes: Buffer.from('old bytes'), createdAt: old.createdAt });
    const otherClaim = claimNameFor('publishing-0badc0de-', 'f'.repeat(16));
    await new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token }).uploadAsset(old.id, otherClaim, { text: 'busy\n' });
    const namesBefore = old.attachments.map((a) => a.name);
    const writesBefore = writes().length;
    expect(await run({ replace: true })).toEqual({ success: false });
    expect(output()).toMatch(new RegExp(`in progress \\(its claim ${otherClaim} .*re-run after \\S+, when its claim counts as abandoned, or delete that asset in Gitea first`));
    expect(releasesAt(tag)[0]!.attachments.map((a) => a.name)).toEqual(namesBefore);
    expect(writes().slice(writesBefore).map((r) => r.method)).toEqual(['POST', 'DELETE']);
  });

  it('a claim abandoned for longer than the limit, and what its run uploaded, are cleared by the next --replace', async () => {
    const old = gitea.addRelease({ tagName: tag });
    const client = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token });
    await client.uploadAsset(old.id, claimNameFor('publishing-0badc0de-', 'f'.repeat(16)), { text: 'died\n' });
    await client.uploadAsset(old.id, 'publishing-0badc0de-SHA256SUMS', { text: 'half\n' });
    for (const attachment of old.attachments) attachment.createdAt = new Date(Date.now() - abandonedClaimAge - 60_000).toISOString();
    expect(await run({ replace: true })).toEqual({ success: true });
    await expectPublishedWithLocalFiles(releasesAt(tag)[0]!);
  });

  it('explains a token this Gitea does not know (401 user does not exist)', async () => {
    process.env['GITEA_REGISTRY_API_TOKEN'] = 'the-local-instance-token';
    expect(await run()).toEqual({ success: false });
    expect(output()).toMatch(/401 "user does not exist".*Use GITEA_REGISTRY_API_TOKEN.*not GITEA_API_TOKEN/);
    expect(output()).not.toContain('the-local-instance-token');
    expect(gitea.releases()).toEqual([]);
  });

  it('explains a token without write:repository (403)', async () => {
    process.env['GITEA_REGISTRY_API_TOKEN'] = 'read-only';
    expect(await run({ json: true })).toEqual({ success: false });
    expect(output()).toMatch(/403.*write:repository/);
    expect(JSON.parse(stdout.join('\n'))).toMatchObject({ error: { kind: 'PermissionDeniedError' } });
    expect(gitea.releases()).toEqual([]);
  });

  it('explains a repository that is not there (404)', async () => {
    process.env['GITEA_REPO'] = 'admin/changemaker.typo';
    expect(await run()).toEqual({ success: false });
    expect(output()).toMatch(/admin\/changemaker\.typo not found.*check GITEA_URL and GITEA_REPO/);
  });

  it('explains a release commit that Gitea does not have yet: the draft is made, publishing it answers 500', async () => {
    await gitea.stop();
    gitea = await startGiteaServer({ tokens: { [token]: { login: 'ci', canWrite: true } }, commits: ['b'.repeat(40)] });
    process.env['GITEA_URL'] = gitea.url;
    expect(await run()).toEqual({ success: false });
    expect(output()).toMatch(new RegExp(`Gitea creates the tag ${tag.replace(/\./g, '\\.')} from commit ${'a'.repeat(40)} when it publishes: if neither is on Gitea yet, push them`));
    expect(releasesAt(tag).map((release) => [release.draft, release.attachments.length])).toEqual([[true, 4]]);
    expect(releasesAt(tag)[0]?.note).toContain('<!-- publish-release draft');
    await expectInvisibleToUsers();

    // The user pushes the tag, as the error says: Gitea publishes the draft as it stands. A re-run finishes it.
    const draft = releasesAt(tag)[0]!;
    draft.draft = false;
    expect(await run()).toEqual({ success: true });
    expect(output()).toContain('finish our own release, published by the push of its tag');
    expect(releasesAt(tag).map((release) => [release.id, release.draft, release.attachments.length])).toEqual([[draft.id, false, 4]]);
    expect(releasesAt(tag)[0]?.note).not.toContain('publish-release draft');
  });

  it('explains an asset over the attachment limit (413) and leaves nothing visible', async () => {
    await gitea.stop();
    gitea = await startGiteaServer({ tokens: { [token]: { login: 'ci', canWrite: true } }, attachmentMaxSize: 1024 });
    process.env['GITEA_URL'] = gitea.url;
    expect(await run()).toEqual({ success: false });
    expect(output()).toMatch(/413.*FILE_MAX_SIZE.*client_max_body_size/);
    await expectInvisibleToUsers();
  });

  it('stops with the 409 message when someone else creates the release between look-up and create', async () => {
    gitea.faults.createConcurrentlyBeforeNextPost();
    expect(await run()).toEqual({ success: false });
    expect(output()).toMatch(/Someone else created the release for v1\.4\.0 meanwhile \(409/);
    expect(releasesAt(tag)).toHaveLength(1);
    expect(releasesAt(tag)[0]!.author).toBe('concurrent-publisher');
    expect(gitea.requests().filter((r) => r.url.includes('/assets'))).toEqual([]);
  });

  it('two publishers racing for the same new tag give one public release with one set of assets', async () => {
    await packageRelease(join(root, 'ci-b/dist/release'), await readFile(join(root, 'dist/release', `changemaker-lite-${tag}.tar.gz`)));
    const results = await Promise.all([run({}, 'dist/release'), run({}, 'ci-b/dist/release')]);
    expect(results.map((r) => r.success).sort()).toEqual([false, true]);
    expect(output()).toMatch(/Someone else created the release for v1\.4\.0 meanwhile/);
    expect(releasesAt(tag)).toHaveLength(1);
    await expectPublishedWithLocalFiles(releasesAt(tag)[0]!);
  });

  it('refuses files that do not match SHA256SUMS before contacting Gitea', async () => {
    await writeFile(join(root, 'dist/release/changemaker-lite-latest.tar.gz'), 'tampered');
    expect(await run()).toEqual({ success: false });
    expect(output()).toMatch(/changemaker-lite-latest\.tar\.gz does not match its line in .*SHA256SUMS/);
    expect(gitea.requests()).toEqual([]);
  });

  it('--json prints a parseable report on stdout; --notes-file and --draft are honoured', async () => {
    await writeFile(join(root, 'NOTES.md'), 'hand-written notes');
    expect(await run({ json: true, notesFile: 'NOTES.md', draft: true, prerelease: true })).toEqual({ success: true });
    const report = JSON.parse(stdout.join('\n'));
    expect(report).toMatchObject({ kind: 'create', tag, draft: true, prerelease: true });
    expect(report.assets.map((a: { name: string }) => a.name).sort()).toEqual(assetNames);
    expect(releasesAt(tag)[0]).toMatchObject({ draft: true, prerelease: true });
    expect(releasesAt(tag)[0]!.note).toMatch(/^hand-written notes/);
  });

  it("takes the notes from the changelog nx.json names (release.changelog.workspaceChangelog.file), where nx release writes them", async () => {
    await mkdir(join(root, 'docs'));
    await rename(join(root, 'CHANGELOG.md'), join(root, 'docs/CHANGELOG.md'));
    const nxJson = { release: { changelog: { workspaceChangelog: { file: '{workspaceRoot}/docs/CHANGELOG.md' } } } };
    expect(await run({}, 'dist/release', nxJson)).toEqual({ success: true });
    expect(releasesAt(tag)[0]!.note).toBe('### Features\n\n- release notes from the changelog');
  });

  it('with the workspace changelog turned off in nx.json, generates notes from release-manifest.json, whatever CHANGELOG.md holds', async () => {
    expect(await run({}, 'dist/release', { release: { changelog: { workspaceChangelog: false } } })).toEqual({ success: true });
    expect(releasesAt(tag)[0]!.note).toContain(`Built from commit ${'a'.repeat(40)}.`);
  });

  it('without a changelog entry, generates notes from release-manifest.json', async () => {
    await rm(join(root, 'CHANGELOG.md'));
    expect(await run()).toEqual({ success: true });
    const notes = releasesAt(tag)[0]!.note;
    expect(notes).toContain(`Built from commit ${'a'.repeat(40)}.`);
    expect(notes).toContain(`- api: registry/changemaker-api:${tag}`);
  });

  it('publishes exactly what the package-release writer produces, tag taken from its manifest', async () => {
    await rm(join(root, 'CHANGELOG.md'));
    const artifacts = await buildReleaseArtifacts({
      tag: 'v2.0.0',
      version: '2.0.0',
      name: 'changemaker-lite',
      entries: [{ type: 'file', path: 'changemaker-lite/VERSION', mode: 0o644, content: Buffer.from('2.0.0\n') }],
      images: [{ service: 'api', reference: 'registry.test/changemaker-api:v2.0.0', source: 'workspace' }],
      sourceDate: { mtimeSeconds: 1_700_000_000, commit: null, origin: 'SOURCE_DATE_EPOCH' },
    });
    await writeReleaseArtifacts(artifacts, join(root, 'packaged'));
    expect(await run({}, 'packaged')).toEqual({ success: true });
    const [release] = releasesAt('v2.0.0');
    expect(release!.draft).toBe(false);
    expect(release!.attachments.map((a) => a.name).sort()).toEqual(artifacts.files.map((f) => f.name).sort());
    for (const file of artifacts.files) expect(release!.attachments.find((a) => a.name === file.name)!.bytes.equals(file.content)).toBe(true);
    expect(release!.note).toContain('- api: registry.test/changemaker-api:v2.0.0');
  });

  it('without a token and without --dry-run, says which token to set', async () => {
    delete process.env['GITEA_REGISTRY_API_TOKEN'];
    expect(await run()).toEqual({ success: false });
    expect(output()).toMatch(/GITEA_REGISTRY_API_TOKEN is not set/);
    expect(gitea.requests()).toEqual([]);
  });
});

/** What package-release writes, made here until it lands: tarballs, SHA256SUMS by sha256sum, manifest. */
async function packageRelease(dir: string, tarball: Buffer = randomBytes(96 * 1024)): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `changemaker-lite-${tag}.tar.gz`), tarball);
  await writeFile(join(dir, 'changemaker-lite-latest.tar.gz'), tarball);
  const names = [`changemaker-lite-${tag}.tar.gz`, 'changemaker-lite-latest.tar.gz'];
  const manifest = { version, commit: 'a'.repeat(40), files: [] as unknown[], images: { api: `registry/changemaker-api:${tag}` } };
  await writeFile(join(dir, 'release-manifest.json'), JSON.stringify(manifest, null, 2));
  const { stdout } = await execa('sha256sum', names, { cwd: dir });
  await writeFile(join(dir, 'SHA256SUMS'), `${stdout}\n`);
}
