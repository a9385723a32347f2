import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { createReleaseRepository, type ReleaseRepository } from '@changemaker/testing';
import { checkoutProblem, newVersionProblem } from './release-git-checks';

describe('the checkout nx release starts from', () => {
  let repository: ReleaseRepository;
  let dir: string;
  let work: string;
  let origin: string;
  const git = (cwd: string, ...args: string[]) => repository.git(cwd, ...args);

  beforeEach(async () => {
    repository = await createReleaseRepository({ files: { '.gitignore': 'dist/\n' }, tagged: true, pushed: 'main and tag' });
    ({ dir, work, origin } = repository);
  });
  afterEach(() => repository.remove());

  /** Where the release is published; origin here is a bare repository on this machine, which could be it. */
  const gitea = { url: 'http://127.0.0.1:9', repo: 'admin/changemaker.lite' };
  const check = (dryRun = false) => checkoutProblem({ root: work, remote: 'origin', gitea, product: 'stack', dryRun });

  it('lets a clean branch level with (or ahead of) its remote go on, ignored files aside', async () => {
    await mkdir(join(work, 'dist'), { recursive: true });
    await writeFile(join(work, 'dist/out.js'), 'built\n');
    expect(await check()).toEqual({ notices: [] });
    await git(work, 'commit', '-q', '--allow-empty', '-m', 'fix: ahead');
    expect(await check()).toEqual({ notices: [] });
  });

  it('refuses uncommitted changes, staged, unstaged, deleted or untracked, naming them, in a dry run too', async () => {
    await writeFile(join(work, 'VERSION'), 'banana\n');
    await writeFile(join(work, 'notes.md'), 'draft\n');
    for (const dryRun of [false, true]) {
      expect((await check(dryRun)).problem).toBe(
        'uncommitted changes in VERSION, notes.md: commit or stash them (git stash -u), then run nx release again; a release is built and tagged from its commit alone',
      );
    }
    await git(work, 'checkout', '--', 'VERSION');
    await rm(join(work, 'notes.md'));
    await rm(join(work, '.gitignore'));
    expect((await check()).problem).toMatch(/^uncommitted changes in \.gitignore: /);
  });

  (process.getuid?.() === 0 ? it : it.skip)("refuses a checkout git will not read, another user's, in git's words rather than as no checkout", async () => {
    await execa('chown', ['-R', 'nobody', work]);
    const { problem } = await check();
    expect(problem).toMatch(new RegExp(`^git will not read ${work}: detected dubious ownership in repository at '${work}' To add an exception for this directory, call: git config --global --add safe\\.directory ${work}$`));
    await execa('chown', ['-R', 'root', work]);
    expect(await check()).toEqual({ notices: [] });
  });

  it('refuses a detached HEAD', async () => {
    await git(work, 'checkout', '-q', '--detach');
    expect((await check()).problem).toMatch(/^HEAD is detached \(at [0-9a-f]{12}\): check out the branch to release from \(git switch main\)/);
  });

  it('refuses a checkout where git has no name and email for the release commit; a dry run only notes it', async () => {
    // No identity anywhere git looks, and no guessing from the host name: a bare CI runner's.
    const saved = { ...process.env };
    for (const name of ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'EMAIL']) delete process.env[name];
    Object.assign(process.env, { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'user.useConfigOnly', GIT_CONFIG_VALUE_0: 'true' });
    try {
      const said = /^git has no name and email to make the release commit and tag with \(no email was given and auto-detection is disabled\): set them \(git config user\.name "Release Manager" && git config user\.email release@example\.org\), then run nx release again$/;
      expect((await check()).problem).toMatch(said);
      expect(await check(true)).toEqual({ notices: [expect.stringMatching(said)] });
      await git(work, 'config', 'user.name', 'Release Manager');
      await git(work, 'config', 'user.email', 'release@example.invalid');
      expect(await check()).toEqual({ notices: [] });
    } finally {
      process.env = saved;
    }
  });

  it('refuses a checkout without the remote the release pushes to', async () => {
    await git(work, 'remote', 'remove', 'origin');
    expect((await check()).problem).toBe('git remote origin does not exist: add the Gitea repository (git remote add origin <url>); nx release pushes the release commit and tag there');
  });

  it('refuses a remote that pushes to another repository than the Gitea one, before asking it anything, in a dry run too', async () => {
    await git(work, 'remote', 'set-url', '--push', 'origin', 'http://127.0.0.1:9/someone/changemaker.lite.git');
    for (const dryRun of [false, true]) {
      expect((await check(dryRun)).problem).toMatch(/^git remote origin pushes to http:\/\/127\.0\.0\.1:9\/someone\/changemaker\.lite\.git, not to http:\/\/127\.0\.0\.1:9\/admin\/changemaker\.lite, where the release is published/);
    }
  });

  it('refuses a branch behind its remote, whether or not it was fetched', async () => {
    const other = join(dir, 'other');
    await git(dir, 'clone', '-q', origin, other);
    await git(other, 'commit', '-q', '--allow-empty', '-m', 'fix: someone else');
    await git(other, 'push', '-q', 'origin', 'main');
    await git(work, 'commit', '-q', '--allow-empty', '-m', 'fix: mine');
    expect((await check()).problem).toMatch(/^main is behind origin \(origin has [0-9a-f]{12}, which HEAD does not contain\): git pull --rebase origin main, then run nx release again$/);
    await git(work, 'fetch', '-q', 'origin');
    expect((await check()).problem).toMatch(/^main is behind origin/);
  });

  it('refuses a branch the remote does not have, in a dry run too: its release would push a branch only this clone has, off main', async () => {
    await git(work, 'switch', '-q', '-c', 'feat/x');
    await git(work, 'commit', '-q', '--allow-empty', '-m', 'feat(api): an experiment');
    for (const dryRun of [false, true]) {
      expect((await check(dryRun)).problem).toBe(
        'feat/x is not on origin, so this release would be made from a branch only this clone has: switch to the branch to release from (git switch main), or push this one first if it is such a branch (git push -u origin feat/x); then run nx release again',
      );
    }
    await git(work, 'push', '-q', '-u', 'origin', 'feat/x');
    expect(await check()).toEqual({ notices: [] });
  });

  it('refuses a remote it cannot ask, without its credentials; a dry run only notes it', async () => {
    await git(work, 'remote', 'set-url', 'origin', `http://ci:s3cret-in-remote@127.0.0.1:9/admin/changemaker.lite.git`);
    const refused = await check();
    expect(refused.problem).toMatch(/^could not ask origin for main \(.+\): fix the remote's URL, credentials or network, then run nx release again$/);
    expect(refused.problem).not.toContain('s3cret-in-remote');
    const dry = await check(true);
    expect(dry.problem).toBeUndefined();
    expect(dry.notices).toEqual([expect.stringMatching(/^could not ask origin for main/)]);
  });

  it('refuses to release over a last release that was tagged here and never pushed, in a dry run too, saying to finish or abandon it', async () => {
    await git(work, 'commit', '-q', '--allow-empty', '-m', 'chore(release): v1.1.0');
    await git(work, 'tag', '-a', 'v1.1.0', '-m', 'v1.1.0');
    const releaseCommit = (await git(work, 'rev-parse', 'HEAD')).slice(0, 12);
    for (const dryRun of [false, true]) {
      expect((await check(dryRun)).problem).toBe(
        `v1.1.0 (${releaseCommit}), the last release in HEAD's history, is not on origin: it stopped before its push, so it is not public. ` +
          'Finish it with npx nx release publish, or undo it with npx nx run stack:abandon-release, then run nx release again',
      );
    }
    await git(work, 'commit', '-q', '--allow-empty', '-m', 'feat: on top of it');
    expect((await check()).problem).toMatch(/: it stopped before its push, so it is not public\. Finish it from its release commit \(git checkout v1\.1\.0 && npx nx release publish, then come back to this branch\), or delete its tag \(git tag -d v1\.1\.0\) to release over it; then run nx release again$/);
    // Once its tag is on the remote, it is a release like any other.
    await git(work, 'push', '-q', 'origin', 'main', 'v1.1.0');
    expect(await check()).toEqual({ notices: [] });
  });

  it('takes no tag for an unfinished release that is no release: a tag made here that the glob v[0-9]* lets through (v2-wip)', async () => {
    await git(work, 'push', '-q', 'origin', 'v1.0.0');
    await git(work, 'tag', 'v2-wip');
    expect(await check()).toEqual({ notices: [] });
  });

  it('refuses a shallow clone, whose history and tags stop part-way, in a dry run too', async () => {
    await git(work, 'commit', '-q', '--allow-empty', '-m', 'fix: after v1.0.0');
    await git(work, 'push', '-q', 'origin', 'main');
    const shallow = join(dir, 'shallow');
    await git(dir, 'clone', '-q', '--depth', '1', `file://${origin}`, shallow);
    for (const dryRun of [false, true]) {
      expect((await checkoutProblem({ root: shallow, remote: 'origin', gitea, product: 'stack', dryRun })).problem).toBe(
        'this clone is shallow (git clone --depth, or a CI checkout without fetch-depth: 0): nx release needs every commit since the last release and its tag to pick the version and write the changelog; fetch them (git fetch --unshallow --tags origin), then run nx release again',
      );
    }
    await git(shallow, 'fetch', '-q', '--unshallow', '--tags', 'origin');
    expect(await checkoutProblem({ root: shallow, remote: 'origin', gitea, product: 'stack', dryRun: false })).toEqual({ notices: [] });
  });

  it("refuses a clone that lacks release tags of the remote in HEAD's history, naming them, in a dry run too", async () => {
    await git(work, 'commit', '-q', '--allow-empty', '-m', 'chore(release): v1.1.0');
    await git(work, 'tag', '-a', 'v1.1.0', '-m', 'v1.1.0');
    await git(work, 'commit', '-q', '--allow-empty', '-m', 'fix: after v1.1.0');
    await git(work, 'push', '-q', 'origin', 'main', 'v1.1.0');
    // A release tag on another line of history, and a tag that is no version, are not this branch's.
    await git(work, 'checkout', '-q', '-b', 'legacy', 'HEAD~2');
    await git(work, 'commit', '-q', '--allow-empty', '-m', 'fix: legacy');
    await git(work, 'tag', 'v0.9.0');
    await git(work, 'checkout', '-q', 'main');
    await git(work, 'tag', 'v2-legacy');
    await git(work, 'push', '-q', 'origin', 'v0.9.0', 'v2-legacy');
    const noTags = join(dir, 'no-tags');
    await git(dir, 'clone', '-q', '--no-tags', origin, noTags);
    for (const dryRun of [false, true]) {
      expect((await checkoutProblem({ root: noTags, remote: 'origin', gitea, product: 'stack', dryRun })).problem).toBe(
        "origin has release tags in HEAD's history that this clone lacks (v1.1.0, v1.0.0): without them nx release would pick the version and the changelog as a first release; fetch them (git fetch --tags origin), then run nx release again",
      );
    }
    await git(noTags, 'fetch', '-q', 'origin', 'tag', 'v1.0.0');
    expect((await checkoutProblem({ root: noTags, remote: 'origin', gitea, product: 'stack', dryRun: false })).problem).toMatch(/^origin has release tags in HEAD's history that this clone lacks \(v1\.1\.0\): without them nx release would pick the version and the changelog from v1\.0\.0; fetch them/);
    await git(noTags, 'fetch', '-q', '--tags', 'origin');
    expect(await checkoutProblem({ root: noTags, remote: 'origin', gitea, product: 'stack', dryRun: false })).toEqual({ notices: [] });
  });

  it('lets a first release go on: no release tag in the history', async () => {
    await git(work, 'tag', '-d', 'v1.0.0');
    await git(work, 'push', '-q', 'origin', ':refs/tags/v1.0.0');
    expect(await check()).toEqual({ notices: [] });
  });

  describe('the version nx release decided', () => {
    const version = (current: string | null, next: string, dryRun = false) => newVersionProblem({ root: work, remote: 'origin', current, next, tag: `v${next}`, dryRun });

    it('lets a version above the last release go on, and a first release', async () => {
      expect(await version('1.0.0', '1.0.1')).toBeUndefined();
      expect(await version('1.0.0', '2.0.0-rc.0')).toBeUndefined();
      expect(await version(null, '1.0.1')).toBeUndefined();
    });

    it('refuses the last release again, or a lower version', async () => {
      expect(await version('1.0.0', '1.0.0')).toBe(
        '1.0.0 is the version already released (v1.0.0): give a higher version, or major, minor or patch; to finish an unfinished v1.0.0, run npx nx release publish',
      );
      expect(await version('1.0.0', '0.9.0')).toBe('0.9.0 is below the last release 1.0.0: give a version above 1.0.0, or major, minor or patch');
      expect(await version('1.0.0', '1.0.0-rc.1')).toMatch(/^1\.0\.0-rc\.1 is below the last release 1\.0\.0/);
    });

    it("refuses a version below a pre-release in the branch's history, which Nx does not count from: it resolves the last stable release", async () => {
      await git(work, 'commit', '-q', '--allow-empty', '-m', 'chore(release): v1.1.0-rc.1');
      await git(work, 'tag', '-a', 'v1.1.0-rc.1', '-m', 'v1.1.0-rc.1');
      await git(work, 'commit', '-q', '--allow-empty', '-m', 'fix: after the rc');
      const below = (next: string) => `${next} is below the last release 1.1.0-rc.1: give a version above 1.1.0-rc.2 (the next rc) or 1.1.0`;
      // Nx resolved 1.0.0 (v1.0.0): 1.1.0-rc.0, a beta, RC (sorted before rc) and prerelease without --preid (1.0.1-0) are all below the rc.
      for (const next of ['1.1.0-rc.0', '1.1.0-beta.1', '1.1.0-RC.2', '1.0.1-0', '1.0.1']) expect(await version('1.0.0', next)).toBe(below(next));
      expect(await version('1.0.0', '1.1.0-rc.1')).toBe(
        '1.1.0-rc.1 is the version already released (v1.1.0-rc.1): give a higher version, or major, minor or patch; to finish an unfinished v1.1.0-rc.1, run npx nx release publish',
      );
      for (const next of ['1.1.0-rc.2', '1.1.0', '2.0.0']) expect(await version('1.0.0', next)).toBeUndefined();
    });

    it('refuses a tag that exists here outside the branch, or on the remote from someone else', async () => {
      // On a commit of its own, which the branch never had (a tag in HEAD's history is its last release).
      const side = await git(work, 'commit-tree', '-p', 'HEAD', '-m', 'fix: elsewhere', 'HEAD^{tree}');
      await git(work, 'tag', '-a', 'v1.0.1', '-m', 'stray', side);
      await git(work, 'commit', '-q', '--allow-empty', '-m', 'fix: mine');
      expect(await version('1.0.0', '1.0.1')).toMatch(/^v1\.0\.1 already exists here \(at [0-9a-f]{12}\), not in this branch's history: give another version, or delete the stray tag \(git tag -d v1\.0\.1\)$/);

      const other = join(dir, 'other');
      await git(dir, 'clone', '-q', origin, other);
      await git(other, 'commit', '-q', '--allow-empty', '-m', 'chore(release): v1.0.2');
      await git(other, 'tag', '-a', 'v1.0.2', '-m', 'v1.0.2');
      await git(other, 'push', '-q', 'origin', 'v1.0.2');
      const holder = (await git(other, 'rev-parse', 'HEAD')).slice(0, 12);
      expect(await version('1.0.0', '1.0.2')).toBe(`v1.0.2 already exists on origin (at ${holder}): someone else released it: git pull --tags origin, then release the next version`);
    });

    it("names a release of another branch that origin has too as such, not as a stray tag: a fix branch of an older line (release/1.0 after v1.1.0) asking for main's minor", async () => {
      await git(work, 'push', '-q', 'origin', 'main', 'v1.0.0');
      await git(work, 'commit', '-q', '--allow-empty', '-m', 'chore(release): v1.1.0');
      await git(work, 'tag', '-a', 'v1.1.0', '-m', 'v1.1.0');
      await git(work, 'push', '-q', 'origin', 'main', 'v1.1.0');
      const released = (await git(work, 'rev-parse', 'HEAD')).slice(0, 12);
      await git(work, 'checkout', '-q', '-b', 'release/1.0', 'v1.0.0');
      await git(work, 'commit', '-q', '--allow-empty', '-m', 'feat: backported');
      expect(await version('1.0.0', '1.1.0')).toBe(
        `v1.1.0 is already released from another branch (at ${released} on origin), not in this branch's history, so this branch is an older line: ` +
          'give a version above its last release and below v1.1.0 (npx nx release patch gives 1.0.1), or release from the branch v1.1.0 is on',
      );
      expect(await version('1.0.0', '1.0.1')).toBeUndefined();
    });
  });
});
