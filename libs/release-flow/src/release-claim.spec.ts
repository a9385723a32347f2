import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ReleaseClient, isStampedBy } from '@changemaker/gitea';
import { startGiteaServer, type TestGiteaServer } from '@changemaker/testing';
import { claimRelease, readHeldElsewhere, releasePublisherId } from './release-claim';
import { GiteaTokenMissingError, ReleaseHeldElsewhereError, ReleaseTagError } from './release-flow-errors';

const token = 'tok-claim-51c0';

describe('the claim an nx release makes on its tag before pushing any image', () => {
  let gitea: TestGiteaServer;
  let dir: string;
  let client: ReleaseClient;
  const git = async (cwd: string, ...args: string[]) => (await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd })).stdout.trim();
  const releaseCommit = async (root: string, text: string) => {
    await execa('git', ['init', '-q', '-b', 'main', root]);
    await writeFile(join(root, 'VERSION'), text);
    await git(root, 'add', '-A');
    await git(root, 'commit', '-qm', 'chore(release): v1.1.0');
    await git(root, 'tag', '-a', 'v1.1.0', '-m', 'v1.1.0');
    return git(root, 'rev-parse', 'HEAD');
  };

  beforeEach(async () => {
    gitea = await startGiteaServer({ tokens: { [token]: { login: 'release-manager', canWrite: true } } });
    dir = await mkdtemp(join(tmpdir(), 'cm-release-claim-'));
    client = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
  });

  afterEach(async () => {
    expect(gitea.violations()).toEqual([]);
    await gitea.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("is one invisible draft naming the release commit, however many of the release's image tasks claim at once", async () => {
    const laptop = join(dir, 'laptop');
    const commit = await releaseCommit(laptop, 'v1.1.0\n');
    const claims = await Promise.all([1, 2, 3, 4].map(() => claimRelease({ workspaceRoot: laptop, tag: 'v1.1.0', gitea: client })));
    expect(claims.filter((claim) => claim.created)).toHaveLength(1);
    const [release] = gitea.releases();
    expect(gitea.releases()).toHaveLength(1);
    expect(release).toMatchObject({ tagName: 'v1.1.0', draft: true, target: commit, attachments: [] });
    expect(isStampedBy(release!.note, releasePublisherId('v1.1.0', commit))).toBe(true);
  });

  it('refuses another release commit of the same version, changing nothing, and records it for the last line', async () => {
    const laptop = join(dir, 'laptop');
    const ci = join(dir, 'ci');
    const winner = await releaseCommit(laptop, 'v1.1.0\n');
    const loser = await releaseCommit(ci, 'v1.1.0 from CI\n');
    await claimRelease({ workspaceRoot: laptop, tag: 'v1.1.0', gitea: client });
    const writes = gitea.requests().filter((request) => request.method !== 'GET').length;
    const refused = claimRelease({ workspaceRoot: ci, tag: 'v1.1.0', gitea: client });
    await expect(refused).rejects.toThrow(ReleaseHeldElsewhereError);
    await expect(refused).rejects.toThrow(
      new RegExp(`^v1\\.1\\.0 is being released from commit ${winner.slice(0, 12)} by another nx release \\(its draft: .+\\), not from this release commit ${loser.slice(0, 12)}, so nothing of this release was pushed: abandon it with git tag -d v1\\.1\\.0 && git reset --hard HEAD~1`),
    );
    expect(gitea.requests().filter((request) => request.method !== 'GET').length).toBe(writes);
    expect(gitea.releases()).toHaveLength(1);
    expect(readHeldElsewhere(ci, 'v1.1.0')).toMatchObject({ tag: 'v1.1.0', commit: loser, holder: winner, draft: true });
    expect(readHeldElsewhere(laptop, 'v1.1.0')).toBeUndefined();
  });

  it('finds the release already public for its own commit and writes nothing: a re-run after success', async () => {
    const laptop = join(dir, 'laptop');
    const commit = await releaseCommit(laptop, 'v1.1.0\n');
    gitea.addRelease({ tagName: 'v1.1.0', target: commit, note: 'the notes', author: 'release-manager' });
    const claim = await claimRelease({ workspaceRoot: laptop, tag: 'v1.1.0', gitea: client });
    expect(claim.created).toBe(false);
    expect(gitea.requests().filter((request) => request.method !== 'GET')).toEqual([]);
  });

  it('asks nothing when the tag is not at HEAD or no token is set', async () => {
    const laptop = join(dir, 'laptop');
    await releaseCommit(laptop, 'v1.1.0\n');
    await expect(claimRelease({ workspaceRoot: laptop, tag: 'v1.2.0', gitea: client })).rejects.toThrow(ReleaseTagError);
    const anonymous = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite' });
    await expect(claimRelease({ workspaceRoot: laptop, tag: 'v1.1.0', gitea: anonymous })).rejects.toThrow(GiteaTokenMissingError);
    expect(gitea.requests()).toEqual([]);
  });
});
