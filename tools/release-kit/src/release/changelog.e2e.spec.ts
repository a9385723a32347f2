import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { addBareOrigin, createThrowawayWorkspace, releaseManagerIdentity, runNx, type ThrowawayWorkspace } from '@changemaker/testing';

const workspaceRoot = resolve(__dirname, '../../../..');
/** A Gitea under a sub-path, given with a trailing slash, and a repository with upper case and a dot. */
const gitea = 'http://127.0.0.1:9/gitea';
const repo = 'Admin/changemaker.lite';

/**
 * What a release manager and the operators read in CHANGELOG.md (and, from it, in the Gitea
 * release): real `nx release` runs in a throwaway clone, with --skip-publish, so nothing but the
 * version, the changelog, the commit and the tag is made.
 */
describe('the changelog nx release writes', () => {
  let workspace: ThrowawayWorkspace;
  let scratch: string;

  beforeAll(async () => {
    [workspace, scratch] = await Promise.all([createThrowawayWorkspace(workspaceRoot), mkdtemp(join(tmpdir(), 'cm-changelog-'))]);
    await addBareOrigin(workspace, join(scratch, 'origin.git'));
  }, 120_000);

  afterAll(async () => {
    await workspace?.remove();
    await rm(scratch, { recursive: true, force: true });
  });

  /** A commit touching the api service, pushed, as a merged change is. */
  const commit = async (message: string): Promise<string> => {
    await appendFile(join(workspace.root, 'apps/api/notes.md'), `${message}\n`);
    const sha = await workspace.commitAll(message);
    await workspace.git('push', '-q', 'origin', 'main');
    return sha;
  };
  const nxRelease = (args: readonly string[]) =>
    runNx(workspace.root, ['release', ...args, '--skip-publish'], { GITEA_URL: `${gitea}/`, GITEA_REPO: repo, GITEA_REGISTRY: '127.0.0.1:9/admin', ...releaseManagerIdentity });
  const release = async (...args: string[]): Promise<string> => {
    const result = await nxRelease(args);
    expect({ exitCode: result.exitCode, output: result.all }).toMatchObject({ exitCode: 0 });
    await workspace.git('push', '-q', '--follow-tags', 'origin', 'main');
    return readFile(join(workspace.root, 'CHANGELOG.md'), 'utf8');
  };
  /** The section of `version`: its heading to the next version's. */
  const sectionOf = (changelog: string, version: string): string => {
    const start = changelog.indexOf(`## [${version}]`);
    expect(start).toBeGreaterThanOrEqual(0);
    const next = changelog.indexOf('\n## ', start + 1);
    return changelog.slice(start, next === -1 ? undefined : next).trim();
  };
  const shortOf = (sha: string) => sha.slice(0, 7);

  /** nx release and its dry run both fail with `line` alone (no stack hint), and write nothing: no commit, tag or file. */
  const expectNothingToRelease = async (line: string): Promise<void> => {
    const before = { head: await workspace.git('rev-parse', 'HEAD'), tags: await workspace.git('tag', '--list') };
    for (const args of [['--dry-run'], []]) {
      const result = await nxRelease(args);
      expect(result.exitCode).toBe(1);
      expect(result.all).toContain(line);
      expect(result.all).not.toContain('Pass --verbose');
    }
    expect({ head: await workspace.git('rev-parse', 'HEAD'), tags: await workspace.git('tag', '--list') }).toEqual(before);
    expect(await workspace.git('status', '--porcelain', '--', '.', ':!.nx')).toBe('');
  };

  it('says to give the first release its version when there is no release yet and no commit gives one', async () => {
    await commit('Write the api notes');
    await expectNothingToRelease(
      "nothing to release: there is no release yet (no release tag in HEAD's history) and no commit that touches the product is a fix:, a feat: or a breaking change; give the first release its version: npx nx release 1.0.0",
    );
  }, 120_000);

  it('calls a first release whose commits list nothing the first release, not a version bump without code changes', async () => {
    const result = await nxRelease(['1.0.0', '--dry-run']);
    expect({ exitCode: result.exitCode, output: result.all }).toMatchObject({ exitCode: 0 });
    expect(stripVTControlCharacters(result.all)).toMatch(/^\+ ## 1\.0\.0 \(\d{4}-\d\d-\d\d\)\n\+\n\+ The first release\.$/m);
    expect(result.all).not.toContain('version bump');
  }, 120_000);

  it('puts the breaking changes first, each with its commit link, and links a squash-merged pull request', async () => {
    await commit('feat(api): the first feature');
    await release('1.0.0');
    // Annotated, with the tag as its message (Nx interpolates no {version} there: it had said "v{version}").
    expect(await workspace.git('tag', '--list', '--format=%(objecttype) %(contents:subject)', 'v1.0.0')).toBe('tag v1.0.0');
    const fix = await commit('fix(api): a fix squash-merged in Gitea (#42)');
    const breaking = await commit('feat: the media settings move\n\nBREAKING CHANGE: MEDIA_PORT is now MEDIA_API_PORT: rename it in .env');

    const section = sectionOf(await release(), '2.0.0');

    expect(section.split('\n').slice(0, 5)).toEqual([
      expect.stringMatching(/^## \[2\.0\.0\]\(http:\/\/127\.0\.0\.1:9\/gitea\/Admin\/changemaker\.lite\/compare\/v1\.0\.0\.\.\.v2\.0\.0\) \(\d{4}-\d\d-\d\d\)$/),
      '',
      '### ⚠️  Breaking Changes',
      '',
      `- the media settings move ([${shortOf(breaking)}](${gitea}/${repo}/commit/${shortOf(breaking)}))`,
    ]);
    expect(section).toContain('  MEDIA_PORT is now MEDIA_API_PORT: rename it in .env');
    expect(section).toContain(`- **api:** a fix squash-merged in Gitea ([#42](${gitea}/${repo}/pulls/42), [${shortOf(fix)}](${gitea}/${repo}/commit/${shortOf(fix)}))`);
    expect(section.indexOf('### ⚠️  Breaking Changes')).toBeLessThan(section.indexOf('### 🚀 Features'));
  }, 180_000);

  it('leaves out a change reverted before the release, and lists a revert of a released one', async () => {
    const reverted = await commit('feat(api): a feature taken back before it shipped');
    await commit(`revert: feat(api): a feature taken back before it shipped\n\nThis reverts commit ${reverted}.`);
    const released = await workspace.git('log', '-1', '--format=%H', '--grep', '^fix(api): a fix squash-merged');
    await commit(`revert: fix(api): a fix squash-merged in Gitea (#42)\n\nThis reverts commit ${released}.`);

    const section = sectionOf(await release('2.0.1'), '2.0.1');

    expect(section).not.toContain('a feature taken back before it shipped');
    expect(section).toContain('### ⏪ Reverts');
    expect(section).toContain('revert: fix(api): a fix squash-merged in Gitea (#42)');
  }, 180_000);

  it('links a stable release after pre-releases to the compare view of the commits its section lists: from the last stable release', async () => {
    await commit('feat(api): a feature tried in a release candidate');
    expect(sectionOf(await release('prerelease', '--preid', 'rc'), '2.0.2-rc.0')).toContain(`/compare/v2.0.1...v2.0.2-rc.0)`);
    await commit('fix(api): a fix to the release candidate');
    expect(sectionOf(await release('prerelease', '--preid', 'rc'), '2.0.2-rc.1')).toContain(`/compare/v2.0.2-rc.0...v2.0.2-rc.1)`);

    const section = sectionOf(await release('2.1.0'), '2.1.0');

    expect(section).toContain(`/compare/v2.0.1...v2.1.0)`);
    expect(section).toContain('a feature tried in a release candidate');
    expect(section).toContain('a fix to the release candidate');
  }, 240_000);

  it('releases a revert of a released change alone as a patch: what ships changed', async () => {
    const fix = await workspace.git('log', '-1', '--format=%H', '--grep', '^fix(api): a fix to the release candidate');
    await commit(`revert: fix(api): a fix to the release candidate\n\nThis reverts commit ${fix}.`);

    expect(sectionOf(await release(), '2.1.1')).toContain('### ⏪ Reverts');
  }, 180_000);

  it('keeps the placeholders of a subject or a breaking change note (<service>), which Gitea would drop as HTML tags, and leaves code spans as written', async () => {
    await commit('fix(api): logs under /var/log/<service>/, as `docker compose logs <service>` shows\n\nBREAKING CHANGE: set <domain> in .env');

    const section = sectionOf(await release('patch'), '2.1.2');

    expect(section).toContain('- **api:** logs under /var/log/\\<service\\>/, as `docker compose logs <service>` shows (');
    expect(section).toContain('  set \\<domain\\> in .env');
  }, 120_000);

  it('fails, in one line and writing nothing, when no commit since the last release gives a version (nx ended such a run with status 0)', async () => {
    await commit('Update the api notes');
    await expectNothingToRelease(
      'nothing to release: no commit since v2.1.2 that touches the product is a fix:, a feat: or a breaking change, so the commits give no version; to release anyway, give one: npx nx release patch (or minor, major, a version)',
    );
    const patch = await nxRelease(['patch', '--dry-run']);
    expect({ exitCode: patch.exitCode, output: patch.all }).toMatchObject({ exitCode: 0 });
    expect(stripVTControlCharacters(patch.all)).toMatch(/^\+ ## \[2\.1\.3\]\(\S+\/compare\/v2\.1\.2\.\.\.v2\.1\.3\) \(\d{4}-\d\d-\d\d\)\n\+\n\+ Nothing to list: no commit since the last release is a fix, a feature or a breaking change\.$/m);
  }, 120_000);

  it('refuses, writing nothing, the version the commits give when one marks its breaking change "BREAKING-CHANGE:" (Nx reads only "BREAKING CHANGE:"), and lists it as breaking once released as a major', async () => {
    const breaking = await workspace.git('rev-parse', '--short', await commit('feat(api): the admin port moves\n\nBREAKING-CHANGE: ADMIN_PORT is now ADMIN_HTTP_PORT'));
    const state = async () => ({ head: await workspace.git('rev-parse', 'HEAD'), tags: await workspace.git('tag', '--list'), status: await workspace.git('status', '--porcelain', '--', '.', ':!.nx') });
    const before = await state();
    for (const args of [['--dry-run'], []]) {
      const result = await nxRelease(args);
      expect(result.exitCode).toBe(1);
      expect(result.all).toContain(
        `nothing was written: commit ${breaking} ("feat(api): the admin port moves") marks a breaking change with a "BREAKING-CHANGE:" footer, which nx release does not read: the commits give 2.2.0, not a major release; to release it as the major it is, npx nx release major, or, if it breaks nothing of the product, npx nx release 2.2.0`,
      );
      expect(result.all).not.toContain('Pass --verbose');
    }
    expect(await state()).toEqual(before);

    const section = sectionOf(await release('major'), '3.0.0');
    expect(section).toContain('### ⚠️  Breaking Changes');
    expect(section).toContain('  ADMIN_PORT is now ADMIN_HTTP_PORT');

    const chore = await workspace.git('rev-parse', '--short', await commit('chore(api): the old admin routes go\n\nBREAKING-CHANGE: /admin/v1 is gone'));
    const result = await nxRelease([]);
    expect(result.exitCode).toBe(1);
    expect(result.all).toContain(`nothing to release as nx read the commits: commit ${chore} ("chore(api): the old admin routes go") marks a breaking change with a "BREAKING-CHANGE:" footer`);
  }, 240_000);
});
