import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ReleaseClient, isStampedBy } from '@changemaker/gitea';
import { startGiteaServer, type TestGiteaServer } from '@changemaker/testing';
import { checkReleaseSigning, claimRelease, readHeldElsewhere, releasePublisherId, type ReleaseClaimRequest } from './release-claim';
import { GiteaTokenMissingError, ReleaseHeldElsewhereError, ReleaseSigningRefusedError, ReleaseTagError } from './release-flow-errors';
import type { ProductLocation } from './signing-trust';

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

  /** The release manager's key, trusted by `product`'s allowed_signers and install.sh, and another key neither lists. */
  let keys: { scratch: string; trusted: string; untrusted: string; product: ProductLocation };
  const signedBy = (keyFile: string): Pick<ReleaseClaimRequest, 'env' | 'product'> => ({ env: { RELEASE_SIGNING_KEY_FILE: keyFile }, product: keys.product });
  const claimOf = (workspaceRoot: string, tag: string, gitea: ReleaseClient) => claimRelease({ workspaceRoot, tag, gitea, ...signedBy(keys.trusted) });

  beforeAll(async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'cm-release-claim-keys-'));
    const keyFile = async (name: string) => {
      const path = join(scratch, name);
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path]);
      return path;
    };
    const [trusted, untrusted] = await Promise.all([keyFile('release-key'), keyFile('other-key')]);
    const line = `release@changemaker-lite ${(await readFile(`${trusted}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ')}`;
    const product = { name: 'stack', root: 'docker', path: join(scratch, 'docker') };
    await mkdir(join(product.path, 'scripts'), { recursive: true });
    await writeFile(join(product.path, 'allowed_signers'), `${line}\n`);
    await writeFile(join(product.path, 'scripts/install.sh'), `#!/usr/bin/env bash\nbaked_allowed_signers='\n${line}\n'\n`);
    keys = { scratch, trusted, untrusted, product };
  });

  afterAll(() => rm(keys.scratch, { recursive: true, force: true }));

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
    const claims = await Promise.all([1, 2, 3, 4].map(() => claimOf(laptop, 'v1.1.0', client)));
    expect(claims.filter((claim) => claim.created)).toHaveLength(1);
    const [release] = gitea.releases();
    expect(gitea.releases()).toHaveLength(1);
    expect(release).toMatchObject({ tagName: 'v1.1.0', draft: true, target: commit, attachments: [] });
    expect(isStampedBy(release!.note, releasePublisherId('v1.1.0', commit))).toBe(true);
  });

  it('marks the claim of a pre-release version a pre-release, which Gitea\'s releases/latest (install.sh, upgrade.sh) skips even if the tag is pushed by hand', async () => {
    const laptop = join(dir, 'laptop');
    await releaseCommit(laptop, 'v2.0.0-rc.1\n');
    await git(laptop, 'tag', '-a', 'v2.0.0-rc.1', '-m', 'v2.0.0-rc.1');
    await claimOf(laptop, 'v2.0.0-rc.1', client);
    await claimOf(laptop, 'v1.1.0', client);
    expect(gitea.releases().map((release) => [release.tagName, release.prerelease]).sort()).toEqual([
      ['v1.1.0', false],
      ['v2.0.0-rc.1', true],
    ]);
  });

  it('refuses another release commit of the same version, changing nothing, and records it for the last line', async () => {
    const laptop = join(dir, 'laptop');
    const ci = join(dir, 'ci');
    const winner = await releaseCommit(laptop, 'v1.1.0\n');
    const loser = await releaseCommit(ci, 'v1.1.0 from CI\n');
    await claimOf(laptop, 'v1.1.0', client);
    const writes = gitea.requests().filter((request) => request.method !== 'GET').length;
    const refused = claimOf(ci, 'v1.1.0', client);
    await expect(refused).rejects.toThrow(ReleaseHeldElsewhereError);
    await expect(refused).rejects.toThrow(
      new RegExp(`^v1\\.1\\.0 is being released from commit ${winner.slice(0, 12)} by another nx release \\(its draft: .+\\), not from this release commit ${loser.slice(0, 12)}, so nothing of this release was pushed: abandon it with npx nx run stack:abandon-release, then git pull`),
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
    const claim = await claimOf(laptop, 'v1.1.0', client);
    expect(claim.created).toBe(false);
    expect(gitea.requests().filter((request) => request.method !== 'GET')).toEqual([]);
  });

  it('asks nothing when the tag is not at HEAD or no token is set', async () => {
    const laptop = join(dir, 'laptop');
    await releaseCommit(laptop, 'v1.1.0\n');
    await expect(claimOf(laptop, 'v1.2.0', client)).rejects.toThrow(ReleaseTagError);
    const anonymous = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite' });
    await expect(claimOf(laptop, 'v1.1.0', anonymous)).rejects.toThrow(GiteaTokenMissingError);
    expect(gitea.requests()).toEqual([]);
  });

  it('an untagged release commit (nx release stopped between its commit and its tag) is refused with the way to finish it, which works', async () => {
    const laptop = join(dir, 'laptop');
    await execa('git', ['init', '-q', '-b', 'main', laptop]);
    await writeFile(join(laptop, 'VERSION'), 'v1.1.0\n');
    await git(laptop, 'add', '-A');
    await git(laptop, 'commit', '-qm', 'chore(release): v1.1.0');
    const refused = claimOf(laptop, 'v1.1.0', client);
    await expect(refused).rejects.toThrow(ReleaseTagError);
    await expect(refused).rejects.toThrow(
      'v1.1.0 does not exist, but HEAD ("chore(release): v1.1.0") is its release commit: nx release stopped between the commit and the tag, so no image was pushed under v1.1.0. ' +
        'Tag it and finish this release: git tag -a v1.1.0 -m v1.1.0 && npx nx release publish (or undo it with git reset --hard HEAD~1 and run nx release again)',
    );
    expect(gitea.requests()).toEqual([]);
    await git(laptop, 'tag', '-a', 'v1.1.0', '-m', 'v1.1.0');
    expect(await claimOf(laptop, 'v1.1.0', client)).toMatchObject({ created: true });
    // Any other commit without the tag: the release was never cut.
    await expect(claimOf(laptop, 'v1.2.0', client)).rejects.toThrow(/^v1\.2\.0 does not exist: nx release \(or nx release version and changelog\) creates the release commit and tag/);
  });

  it('refuses, before asking Gitea anything, a release with no signing key or one the product does not trust: no draft, nothing to push under', async () => {
    const laptop = join(dir, 'laptop');
    await releaseCommit(laptop, 'v1.1.0\n');
    const claim = (signing: Pick<ReleaseClaimRequest, 'env' | 'product'>) => claimRelease({ workspaceRoot: laptop, tag: 'v1.1.0', gitea: client, ...signing });
    const unsigned = claim({ env: {}, product: keys.product });
    await expect(unsigned).rejects.toThrow(ReleaseSigningRefusedError);
    await expect(unsigned).rejects.toThrow(
      'nothing was pushed under v1.1.0 and no Gitea release was made: no release signing key: set RELEASE_SIGNING_KEY_FILE (a path) or RELEASE_SIGNING_KEY (the key); install.sh and upgrade.sh refuse an unsigned release on every server (README, "Signing keys").',
    );
    const untrusted = claim(signedBy(keys.untrusted));
    await expect(untrusted).rejects.toThrow(ReleaseSigningRefusedError);
    await expect(untrusted).rejects.toThrow(`the signing key from RELEASE_SIGNING_KEY_FILE (${keys.untrusted}) is not in docker/allowed_signers or baked_allowed_signers in docker/scripts/install.sh`);
    const inline = (await readFile(keys.untrusted, 'utf8')).trim();
    const refusal = await claim({ env: { RELEASE_SIGNING_KEY: inline }, product: keys.product }).catch((error: Error) => error.message);
    expect(refusal).toMatch(/^nothing was pushed under v1\.1\.0 and no Gitea release was made: the signing key from RELEASE_SIGNING_KEY is not in /);
    // The release commit is cut: a commit adding the key's line would not be in it, so the way on is another key, or a new release.
    expect(refusal).toMatch(/v1\.1\.0's release commit is already cut without it: set the key those lists hold and run npx nx release publish again; to trust this key instead, add the line "[^"]+" to .+, commit, and cut a new release with npx nx release/);
    expect(refusal).not.toContain(inline.split('\n')[1]);
    expect(refusal).not.toContain('PRIVATE KEY');
    expect(gitea.requests()).toEqual([]);
    expect(gitea.releases()).toEqual([]);
  });

  it("in a dry run, as nx release's preflight: a missing key is a notice and the run goes on, an untrusted key is refused, a trusted one passes", async () => {
    const check = (signing: Pick<ReleaseClaimRequest, 'env' | 'product'>) => checkReleaseSigning({ tag: 'v1.1.0', dryRun: true, ...signing });
    expect(await check({ env: {}, product: keys.product })).toMatch(/^no release signing key: set RELEASE_SIGNING_KEY_FILE/);
    await expect(check(signedBy(keys.untrusted))).rejects.toThrow(ReleaseSigningRefusedError);
    await expect(check({ env: { RELEASE_SIGNING_KEY_FILE: join(keys.scratch, 'absent') }, product: keys.product })).rejects.toThrow(/RELEASE_SIGNING_KEY_FILE=.*absent cannot be read/);
    expect(await check(signedBy(keys.trusted))).toBeUndefined();
  });
});
