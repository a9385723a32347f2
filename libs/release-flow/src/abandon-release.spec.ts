import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReleaseClient, stampFor } from '@changemaker/gitea';
import { createReleaseRepository, startGiteaServer, type ReleaseRepository, type TestGiteaServer } from '@changemaker/testing';
import { abandonmentOf, abandonStages, AbandonRefusedError, type AbandonRequest } from './abandon-release';
import { releasePublisherId } from './release-claim';
import { runStages, type StageOutcome } from './release-stage';

const token = 'tok-abandon-2b7e';

/**
 * A checkout whose HEAD is v1.1.0's release commit (tagged, not pushed), its origin holding the
 * commit before, and a Gitea test server where the release's claim (a stamped draft) may be.
 */
describe('abandoning a release stopped before it was pushed', () => {
  let gitea: TestGiteaServer;
  let repository: ReleaseRepository;
  let dir: string;
  let work: string;
  let before: string;
  let releaseCommit: string;
  const git = (...args: string[]) => repository.git(work, ...args);
  const client = (withToken = true) =>
    new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token: withToken ? token : undefined, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
  const request = (overrides: Partial<AbandonRequest> = {}): AbandonRequest => ({ root: work, productRoot: 'docker', remote: 'origin', gitea: client(), dryRun: false, ...overrides });
  const abandon = async (overrides: Partial<AbandonRequest> = {}): Promise<StageOutcome[]> => {
    const abandonment = await abandonmentOf(request(overrides));
    return runStages(abandonStages(), abandonment, { dryRun: abandonment.request.dryRun });
  };
  const claimDraft = (commit: string) =>
    client().createRelease({ tag_name: 'v1.1.0', target_commitish: commit, name: 'v1.1.0', body: `claimed\n\n${stampFor(releasePublisherId('v1.1.0', commit))}`, draft: true });
  const state = async () => ({ head: await git('rev-parse', 'HEAD'), tags: await git('tag', '--list'), releases: JSON.stringify(gitea.releases()), origin: await git('ls-remote', 'origin') });

  beforeEach(async () => {
    gitea = await startGiteaServer({ tokens: { [token]: { login: 'release-manager', canWrite: true } } });
    repository = await createReleaseRepository({ files: { 'docker/VERSION': 'v1.0.0\n' }, pushed: 'main' });
    ({ dir, work } = repository);
    before = await git('rev-parse', 'HEAD');
    await writeFile(join(work, 'docker/VERSION'), 'v1.1.0\n');
    await writeFile(join(work, 'CHANGELOG.md'), '## 1.1.0\n');
    await git('add', '-A');
    await git('commit', '-qm', 'chore(release): v1.1.0');
    await git('tag', '-a', 'v1.1.0', '-m', 'v1.1.0');
    releaseCommit = await git('rev-parse', 'HEAD');
  });

  afterEach(async () => {
    expect(gitea.violations()).toEqual([]);
    for (const logged of gitea.requests()) expect(logged.url).not.toContain(token);
    await gitea.stop();
    await repository.remove();
  });

  it("deletes this release commit's draft, the tag and the release commit, in that order, and leaves origin as it was", async () => {
    const draft = await claimDraft(releaseCommit);
    await client().uploadAsset(draft.id, 'SHA256SUMS', { text: 'x  y\n' });
    const originBefore = await git('ls-remote', 'origin');

    const outcomes = await abandon();

    expect(outcomes.map(({ stage, status }) => `${stage} ${status}`)).toEqual(['remote ran', 'gitea ran', 'delete-draft running', 'delete-tag running', 'undo-commit running']);
    expect(outcomes[0]?.lines).toEqual(['origin does not have v1.1.0: nothing of this release was pushed']);
    expect(gitea.releases()).toEqual([]);
    expect(await git('tag', '--list')).toBe('');
    expect(await git('rev-parse', 'HEAD')).toBe(before);
    expect(await git('status', '--porcelain')).toBe('');
    expect(await git('ls-remote', 'origin')).toBe(originBefore);
  });

  it('walks the same checks in a dry run and changes nothing, naming what a real run deletes', async () => {
    await claimDraft(releaseCommit);
    const unchanged = await state();

    const outcomes = await abandon({ dryRun: true });

    expect(outcomes.map(({ stage, status }) => `${stage} ${status}`)).toEqual(['remote ran', 'gitea ran', 'delete-draft planned', 'delete-tag planned', 'undo-commit planned']);
    expect(outcomes[4]?.lines).toEqual([`git reset --keep HEAD~1: back to ${before.slice(0, 12)} ("chore(release): v1.0.0"), before "chore(release): v1.1.0"`]);
    expect(await state()).toEqual(unchanged);
  });

  it('refuses, changing nothing, once origin has the tag at this commit: the release is public', async () => {
    await claimDraft(releaseCommit);
    await git('push', '-q', 'origin', 'main', 'v1.1.0');
    const unchanged = await state();
    await expect(abandon()).rejects.toThrow(
      new AbandonRefusedError(
        'origin has v1.1.0 at this release commit, so the release is public (Gitea published it when the tag arrived): finish it with npx nx release publish; it cannot be abandoned. Nothing was changed',
      ),
    );
    expect(await state()).toEqual(unchanged);
  });

  it('refuses, changing nothing, a release Gitea already published', async () => {
    const draft = await claimDraft(releaseCommit);
    await client().editRelease(draft.id, { draft: false });
    const unchanged = await state();
    await expect(abandon()).rejects.toThrow(/^v1\.1\.0 is published in http:\/\/127\.0\.0\.1:\d+ \(admin\/changemaker\.lite\) \(.+\): finish it with npx nx release publish; it cannot be abandoned\. Nothing was changed$/);
    expect(await state()).toEqual(unchanged);
  });

  it("leaves another release commit's draft alone, and still undoes this one's tag and commit", async () => {
    await claimDraft(before);
    const outcomes = await abandon();
    expect(outcomes[1]?.lines[0]).toMatch(new RegExp(`^v1\\.1\\.0's draft belongs to another release commit \\(${before.slice(0, 12)}\\): left alone, `));
    expect(outcomes[2]).toMatchObject({ stage: 'delete-draft', status: 'skipped' });
    expect(gitea.releases()).toHaveLength(1);
    expect(await git('rev-parse', 'HEAD')).toBe(before);
  });

  it('needs the token in a real run, changing nothing without it; a dry run says what it could not see', async () => {
    await claimDraft(releaseCommit);
    const unchanged = await state();
    await expect(abandon({ gitea: client(false) })).rejects.toThrow(/^GITEA_REGISTRY_API_TOKEN is not set, so the draft that claims v1\.1\.0 in .+ can be neither seen nor deleted: export the token nx release used and run again; nothing was changed$/);
    const dry = await abandon({ gitea: client(false), dryRun: true });
    expect(dry[1]?.lines).toEqual(['no GITEA_REGISTRY_API_TOKEN: drafts cannot be seen; a real run needs it']);
    expect(await state()).toEqual(unchanged);
  });

  it('refuses when the remote cannot be asked, changing nothing; a dry run notes it', async () => {
    await git('remote', 'set-url', 'origin', join(dir, 'gone.git'));
    const local = async () => ({ head: await git('rev-parse', 'HEAD'), tags: await git('tag', '--list'), releases: JSON.stringify(gitea.releases()) });
    const unchanged = await local();
    await expect(abandon()).rejects.toThrow(/^could not ask origin whether v1\.1\.0 was pushed \(.+\): abandon only once git ls-remote origin v1\.1\.0 lists nothing; nothing was changed$/);
    expect((await abandon({ dryRun: true }))[0]?.lines[0]).toMatch(/^could not ask origin whether v1\.1\.0 was pushed \(.+\); a real run stops here until it can$/);
    expect(await local()).toEqual(unchanged);
  });

  it('undoes an untagged release commit (nx release stopped between commit and tag) without asking the remote', async () => {
    await git('tag', '-d', 'v1.1.0');
    const outcomes = await abandon();
    expect(outcomes.map(({ stage, status }) => `${stage} ${status}`)).toEqual(['remote skipped', 'gitea ran', 'delete-draft skipped', 'delete-tag skipped', 'undo-commit running']);
    expect(await git('rev-parse', 'HEAD')).toBe(before);
  });

  it('refuses when HEAD is not a release commit, or the checkout has uncommitted changes, changing nothing', async () => {
    await writeFile(join(work, 'CHANGELOG.md'), 'edited\n');
    await expect(abandon()).rejects.toThrow('the checkout has uncommitted changes (CHANGELOG.md), which undoing the release commit could mix with its own: commit or stash them first; nothing was changed');
    await git('checkout', '-q', '--', 'CHANGELOG.md');
    await git('commit', '-q', '--allow-empty', '-m', 'fix: after the release commit');
    const unchanged = await state();
    await expect(abandon()).rejects.toThrow('HEAD ("fix: after the release commit") is not v1.1.0\'s release commit, so there is no unfinished release to abandon: nothing was changed');
    expect(await state()).toEqual(unchanged);
  });
});
