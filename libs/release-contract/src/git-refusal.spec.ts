import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { gitRefusalOf } from './git-refusal';

describe("git's refusal to read a checkout", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'git-refusal-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  // Only the repository's own settings count: a machine's safe.directory = * would hide the refusal.
  const git = (...args: string[]) => execa('git', ['-C', dir, ...args], { reject: false, env: { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' } });
  const commit = () => git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '--allow-empty', '-m', 'first');

  it('is nothing where there is no repository, or no commit yet: those are said as such', async () => {
    expect(gitRefusalOf((await git('rev-parse', 'HEAD')).stderr)).toBeUndefined();
    await git('init', '-q');
    expect(gitRefusalOf((await git('rev-parse', 'HEAD')).stderr)).toBeUndefined();
    await commit();
    expect((await git('rev-parse', 'HEAD')).exitCode).toBe(0);
  });

  (process.getuid?.() === 0 ? it : it.skip)("is git's own words and advice, on one line, for a checkout that belongs to another user", async () => {
    await git('init', '-q');
    await commit();
    await chown(dir, 65534, 65534);
    const answer = await git('rev-parse', 'HEAD');
    expect(answer.exitCode).not.toBe(0);
    expect(gitRefusalOf(answer.stderr)).toBe(`detected dubious ownership in repository at '${dir}' To add an exception for this directory, call: git config --global --add safe.directory ${dir}`);
  });
});
