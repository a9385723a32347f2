import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { createReleaseRepository, type ReleaseRepository } from '@changemaker/testing';
import { readReleaseStart, readUnfinishedRelease, unfinishedReleaseLine } from './unfinished-release';

describe('what a stopped nx release left', () => {
  let repository: ReleaseRepository;
  let dir: string;
  let work: string;
  let origin: string;
  const git = (cwd: string, ...args: string[]) => repository.git(cwd, ...args);

  beforeEach(async () => {
    repository = await createReleaseRepository({ files: { 'notes.md': 'notes\n' }, pushed: 'main' });
    ({ dir, work, origin } = repository);
  });
  afterEach(() => repository.remove());

  const release = async () => {
    await writeFile(join(work, 'VERSION'), 'v1.1.0\n');
    await git(work, 'commit', '-qam', 'chore(release): v1.1.0');
    await git(work, 'tag', '-a', 'v1.1.0', '-m', 'v1.1.0');
  };

  it('before the release commit: only the files the release wrote, never an edit the user had already made', async () => {
    await writeFile(join(work, 'notes.md'), 'the user was editing this\n');
    const start = readReleaseStart(work, 'origin');
    expect(readUnfinishedRelease(start, 'v1.1.0')).toEqual({ kind: 'untouched' });
    await writeFile(join(work, 'VERSION'), 'v1.1.0\n');
    await writeFile(join(work, 'CHANGELOG.md'), '## 1.1.0\n');
    await git(work, 'add', 'CHANGELOG.md');
    const state = readUnfinishedRelease(start, 'v1.1.0');
    expect(state).toEqual({ kind: 'edited', files: ['CHANGELOG.md', 'VERSION'] });
    expect(unfinishedReleaseLine('v1.1.0', state, 'stack', 'SIGINT')).toBe(
      'v1.1.0: stopped by SIGINT before the release commit: nothing was committed, tagged or pushed, but CHANGELOG.md, VERSION hold its edits: put them back with git restore --source=HEAD --staged --worktree -- CHANGELOG.md VERSION, then run nx release again',
    );
  });

  it("the command that puts the edits back works when the changelog is new (a first release), and keeps the user's own edit", async () => {
    await writeFile(join(work, 'notes.md'), 'the user was editing this\n');
    const start = readReleaseStart(work, 'origin');
    await writeFile(join(work, 'VERSION'), 'v1.0.0\n');
    await writeFile(join(work, 'CHANGELOG.md'), '## 1.0.0\n');
    await git(work, 'add', 'CHANGELOG.md', 'VERSION');
    const advice = /put them back with (.+), then run nx release again$/.exec(unfinishedReleaseLine('v1.0.0', readUnfinishedRelease(start, 'v1.0.0'), 'stack'));
    await execa('sh', ['-c', advice![1]!], { cwd: work });
    expect(await git(work, 'status', '--porcelain')).toBe('M notes.md');
  });

  it('between the release commit and its tag', async () => {
    const start = readReleaseStart(work, 'origin');
    await writeFile(join(work, 'VERSION'), 'v1.1.0\n');
    await git(work, 'commit', '-qam', 'chore(release): v1.1.0');
    const state = readUnfinishedRelease(start, 'v1.1.0');
    expect(state).toEqual({ kind: 'committed' });
    // Tagging it is all nx release had left to do before publishing; nx release again would skip the version.
    expect(unfinishedReleaseLine('v1.1.0', state, 'stack')).toBe(
      'v1.1.0: stopped after the release commit, before its tag: nothing was tagged or pushed: tag it and finish this release with git tag -a v1.1.0 -m v1.1.0 && npx nx release publish, or undo the commit with git reset --hard HEAD~1 and run nx release again',
    );
  });

  it('after the tag: local, or pushed as the remote itself says even when the remote-tracking branch does not know yet', async () => {
    const start = readReleaseStart(work, 'origin');
    await release();
    expect(readUnfinishedRelease(start, 'v1.1.0')).toEqual({ kind: 'local' });
    // A push stopped after the remote took it: no remote-tracking branch was updated.
    await execa('git', ['--git-dir', origin, 'fetch', '-q', work, 'refs/heads/main:refs/heads/main', 'refs/tags/v1.1.0:refs/tags/v1.1.0']);
    expect(await git(work, 'branch', '--remotes', '--contains', 'HEAD')).toBe('');
    const state = readUnfinishedRelease(start, 'v1.1.0');
    expect(state).toEqual({ kind: 'pushed' });
    expect(unfinishedReleaseLine('v1.1.0', state, 'stack', 'SIGTERM')).toBe(
      'v1.1.0: stopped by SIGTERM; the release commit and tag are pushed, so the release is public (Gitea published it when the tag arrived) but not finished: finish it with npx nx release publish; do not abandon it',
    );
  });

  it("after the tag: the remote's branch moved on, so nx release publish cannot push it and the line says to abandon and release again", async () => {
    const other = join(dir, 'other');
    await execa('git', ['clone', '-q', origin, other]);
    await writeFile(join(other, 'notes.md'), 'someone else\n');
    await git(other, 'commit', '-qam', 'docs: someone else');
    const start = readReleaseStart(work, 'origin');
    await release();
    expect(readUnfinishedRelease(start, 'v1.1.0')).toEqual({ kind: 'local' });
    await git(other, 'push', '-q', 'origin', 'main');
    const state = readUnfinishedRelease(start, 'v1.1.0');
    expect(state).toEqual({ kind: 'behind', remote: 'origin', branch: 'main' });
    expect(unfinishedReleaseLine('v1.1.0', state, 'stack')).toBe(
      "v1.1.0: the release commit and tag are local only (nothing was pushed), and origin's main has moved on since they were made, so nx release publish cannot push them: " +
        "abandon it with npx nx run stack:abandon-release (v1.1.0's draft, tag and release commit), then git pull --rebase origin main and run nx release again",
    );
  });

  it('after the tag: the remote holds the version at another commit, so this release is to be abandoned', async () => {
    const other = join(dir, 'other');
    await execa('git', ['clone', '-q', origin, other]);
    await writeFile(join(other, 'VERSION'), 'v1.1.0 from elsewhere\n');
    await git(other, 'commit', '-qam', 'chore(release): v1.1.0');
    await git(other, 'tag', '-a', 'v1.1.0', '-m', 'v1.1.0');
    await git(other, 'push', '-q', 'origin', 'main', 'v1.1.0');
    const start = readReleaseStart(work, 'origin');
    await release();
    const elsewhere = await git(other, 'rev-parse', 'HEAD');
    const state = readUnfinishedRelease(start, 'v1.1.0');
    expect(state).toEqual({ kind: 'elsewhere', commit: elsewhere, where: 'origin' });
    expect(unfinishedReleaseLine('v1.1.0', state, 'stack')).toBe(
      `v1.1.0: another release commit (${elsewhere.slice(0, 12)}) holds this version (origin): nothing of this one was pushed or published: abandon it with npx nx run stack:abandon-release, then git pull`,
    );
  });

  it('after the tag, with a remote that cannot be asked: says so and how to find out, never that nothing was pushed', async () => {
    await git(work, 'remote', 'set-url', 'origin', join(dir, 'gone.git'));
    const start = readReleaseStart(work, 'origin');
    await release();
    const state = readUnfinishedRelease(start, 'v1.1.0');
    expect(state.kind).toBe('remote-unknown');
    expect(unfinishedReleaseLine('v1.1.0', state, 'stack')).toMatch(/^v1\.1\.0: could not ask origin whether v1\.1\.0 was pushed \(.+\): if git ls-remote origin v1\.1\.0 lists it, the release is public/);
  });
});
