import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { changelogBaseTagIn, mergedReleaseTagsGitArgs, newerStableReleaseIn, previousReleaseTagIn } from './previous-release';

describe('the release before this one', () => {
  let repo: string;
  const git = (...args: string[]) => execa('git', ['-C', repo, '-c', 'user.name=Tests', '-c', 'user.email=tests@example.invalid', ...args]);
  const previousOf = async (tag: string) => previousReleaseTagIn((await git(...mergedReleaseTagsGitArgs)).stdout, tag);

  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'previous-release-'));
    await execa('git', ['init', '-q', '-b', 'main', repo]);
    for (const tag of ['v1.9.0', 'v1.10.0']) {
      await git('commit', '-q', '--allow-empty', '-m', tag);
      await git('tag', tag);
    }
  });
  afterEach(() => rm(repo, { recursive: true, force: true }));

  it('is the highest release tag merged into HEAD, by version, not by name', async () => {
    await git('commit', '-q', '--allow-empty', '-m', 'feat: next');
    expect(await previousOf('v1.11.0')).toBe('v1.10.0');
  });

  it("orders by semver: a release after 1.10.0 follows it, not its release candidate, which git's version sort puts above it", async () => {
    await git('tag', 'v1.10.0-rc.1', 'HEAD~1');
    await git('commit', '-q', '--allow-empty', '-m', 'fix: next');
    expect(await previousOf('v1.10.1')).toBe('v1.10.0');
  });

  it("is never this release's own tag, even when HEAD already carries it (a re-run)", async () => {
    await git('commit', '-q', '--allow-empty', '-m', 'chore(release): v1.11.0');
    await git('tag', 'v1.11.0');
    expect(await previousOf('v1.11.0')).toBe('v1.10.0');
  });

  it('leaves out tags on other branches and tags that are not releases, and is undefined before the first release', async () => {
    await git('checkout', '-q', '-b', 'hotfix', 'v1.9.0');
    await git('commit', '-q', '--allow-empty', '-m', 'fix: on a branch');
    await git('tag', 'v1.9.1');
    await git('checkout', '-q', 'main');
    await git('tag', 'nightly');
    // A floating major tag and a docs tag match the glob v[0-9]* but are no release; git's version sort puts both above v1.10.0.
    await git('tag', 'v2');
    await git('tag', 'v1.10-docs');
    expect(await previousOf('v1.11.0')).toBe('v1.10.0');
    expect(previousReleaseTagIn('', 'v1.0.0')).toBeUndefined();
  });
});

describe('the release a changelog section starts from', () => {
  const tags = (...list: string[]) => list.join('\n');

  it('is the last stable release for a stable version, past the pre-releases since: their commits are in its section too', () => {
    expect(changelogBaseTagIn(tags('v2.0.0-rc.1', 'v2.0.0-rc.0', 'v1.10.0', 'v1.9.0'), 'v2.0.0')).toBe('v1.10.0');
    expect(changelogBaseTagIn(tags('v1.10.0', 'v1.9.0', 'nightly'), 'v1.11.0')).toBe('v1.10.0');
  });

  it('is the last pre-release of its preid for a pre-release, unless a stable release at or above it came since', () => {
    expect(changelogBaseTagIn(tags('v2.0.0-rc.1', 'v2.0.0-beta.3', 'v1.10.0'), 'v2.0.0-rc.2')).toBe('v2.0.0-rc.1');
    expect(changelogBaseTagIn(tags('v2.0.0-beta.3', 'v1.10.0'), 'v2.0.0-rc.0')).toBe('v1.10.0');
    expect(changelogBaseTagIn(tags('v1.10.0', 'v1.10.0-rc.1'), 'v1.11.0-rc.0')).toBe('v1.10.0');
  });

  it("orders by semver (git's version sort puts v1.0.0-rc.1 above v1.0.0) and is undefined before the first release", () => {
    expect(changelogBaseTagIn(tags('v1.0.0-rc.1', 'v1.0.0'), 'v1.0.1-rc.0')).toBe('v1.0.0');
    expect(changelogBaseTagIn('', 'v1.0.0')).toBeUndefined();
    expect(changelogBaseTagIn(tags('v1.0.0'), 'v1.0.0')).toBeUndefined();
  });
});

describe('a newer stable release than the one being made (it is then a fix for an older line)', () => {
  const tags = (...list: string[]) => list.join('\n');

  it('is the highest stable release above the version, on any branch; pre-releases and tags that are no release do not count', () => {
    expect(newerStableReleaseIn(tags('v1.0.0', 'v1.1.0', 'v1.2.0-rc.1', 'v2-wip'), '1.0.1')).toBe('v1.1.0');
    expect(newerStableReleaseIn(tags('v1.0.0', 'v1.1.0', 'v1.10.0'), '1.0.1')).toBe('v1.10.0');
    expect(newerStableReleaseIn(tags('v1.0.0', 'v1.1.0', 'v1.2.0-rc.1', 'v2-wip'), '1.1.1')).toBeUndefined();
    expect(newerStableReleaseIn(tags('v1.0.0', 'v1.1.0'), '1.1.0')).toBeUndefined();
    expect(newerStableReleaseIn('', '1.0.0')).toBeUndefined();
  });
});
