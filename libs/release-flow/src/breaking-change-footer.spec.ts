import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { breakingChangesUnreadByNx, breaksUnreadByNx, unreadBreakingChangeProblem, withBreakingChangeFooterNxReads } from './breaking-change-footer';

describe('a breaking change nx release does not read', () => {
  it.each([
    ['feat(api): routes move', 'BREAKING-CHANGE: /v1 is gone', true],
    ['fix: a fix', 'Some words.\n\nBREAKING-CHANGE: the port moves\nRefs: #12', true],
    ['feat(api)!: routes move', 'BREAKING-CHANGE: /v1 is gone', false],
    ['feat: routes move', 'BREAKING CHANGE: /v1 is gone\nBREAKING-CHANGE: also this', false],
    ['feat: routes move', 'It mentions BREAKING-CHANGE: in a sentence.', false],
    ['Update the notes', 'BREAKING-CHANGE: not a conventional commit', false],
    ['feat: routes move', '', false],
  ])('%s / %j: %s', (subject, body, unread) => {
    expect(breaksUnreadByNx(subject, body)).toBe(unread);
  });

  it('rewrites the footer as nx reads one, and nothing else', () => {
    expect(withBreakingChangeFooterNxReads('feat: x\n\nBREAKING-CHANGE: the port moves\nsee BREAKING-CHANGE: here')).toBe('feat: x\n\nBREAKING CHANGE: the port moves\nsee BREAKING-CHANGE: here');
  });

  it('names the first commit, how many more, and both ways on, in one line', () => {
    const commits = [
      { hash: 'abc1234', subject: 'feat(api): routes move' },
      { hash: 'def5678', subject: 'fix: more' },
    ];
    expect(unreadBreakingChangeProblem(commits, '1.3.0')).toBe(
      'commit abc1234 ("feat(api): routes move") (and 1 more) marks a breaking change with a "BREAKING-CHANGE:" footer, which nx release does not read: the commits give 1.3.0, not a major release; to release it as the major it is, npx nx release major, or, if it breaks nothing of the product, npx nx release 1.3.0',
    );
    expect(unreadBreakingChangeProblem(commits.slice(0, 1), undefined)).toBe(
      'commit abc1234 ("feat(api): routes move") marks a breaking change with a "BREAKING-CHANGE:" footer, which nx release does not read: the commits give no version; to release it as the major it is, npx nx release major, or another version if it breaks nothing of the product',
    );
    expect(unreadBreakingChangeProblem([], '1.3.0')).toBeUndefined();
  });

  describe('in a repository', () => {
    let root: string;
    const git = (...args: string[]) => execa('git', ['-C', root, '-c', 'user.name=T', '-c', 'user.email=t@example.invalid', ...args]);
    const commit = async (message: string) => {
      await git('commit', '-q', '--allow-empty', '-m', message);
      return (await git('rev-parse', '--short', 'HEAD')).stdout;
    };

    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), 'breaking-footer-'));
      await git('init', '-q', '-b', 'main');
    });
    afterEach(() => rm(root, { recursive: true, force: true }));

    it('lists the commits after the release tag that mark it so, newest first; every commit of HEAD when the tag does not exist', async () => {
      const released = await commit('feat: before the release\n\nBREAKING-CHANGE: already released');
      await git('tag', 'v1.0.0');
      await commit('fix: a plain fix');
      const first = await commit('feat(api): routes move\n\nBREAKING-CHANGE: /v1 is gone');
      await commit('feat!: read by nx\n\nBREAKING-CHANGE: also');
      const second = await commit('fix: the port\n\nBody.\n\nBREAKING-CHANGE: 8080 now');

      expect(await breakingChangesUnreadByNx(root, 'v1.0.0')).toEqual([
        { hash: second, subject: 'fix: the port' },
        { hash: first, subject: 'feat(api): routes move' },
      ]);
      expect((await breakingChangesUnreadByNx(root, 'v0.9.0')).map((commit) => commit.hash)).toEqual([second, first, released]);
      expect((await breakingChangesUnreadByNx(root, undefined)).map((commit) => commit.hash)).toEqual([second, first, released]);
    });
  });
});
