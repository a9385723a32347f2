import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { processCommandRunner } from './command-runner';
import { NotAGitRepositoryError, readGitRevision, UnreadableCheckoutError } from './git-revision';

describe('the commit an image is built from', () => {
  let dir: string;
  const runner = processCommandRunner(process.env);
  const git = (...args: string[]) => execa('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { env: { GIT_COMMITTER_DATE: '@1700000000 +0000' } });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'git-revision-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is HEAD: its sha, its branch (none when detached) and its commit time', async () => {
    await git('init', '-q', '-b', 'main');
    await git('commit', '-q', '--allow-empty', '-m', 'first');
    const sha = (await git('rev-parse', 'HEAD')).stdout;
    expect(await readGitRevision(dir, runner)).toEqual({ sha, branch: 'main', commitTime: 1700000000 });
    await git('checkout', '-q', '--detach');
    expect(await readGitRevision(dir, runner)).toEqual({ sha, branch: undefined, commitTime: 1700000000 });
  });

  it('is refused as missing with no repository or no commit', async () => {
    await expect(readGitRevision(dir, runner)).rejects.toThrow(NotAGitRepositoryError);
    await git('init', '-q');
    await expect(readGitRevision(dir, runner)).rejects.toThrow(`${dir} is not inside a git repository with a commit: image tags come from the commit, so commit first.`);
  });

  (process.getuid?.() === 0 ? it : it.skip)("is refused in git's words, not as missing, in a checkout that belongs to another user", async () => {
    await git('init', '-q');
    await git('commit', '-q', '--allow-empty', '-m', 'first');
    await execa('chown', ['-R', 'nobody', dir]);
    const refused = readGitRevision(dir, runner);
    await expect(refused).rejects.toThrow(UnreadableCheckoutError);
    await expect(refused).rejects.toThrow(`git will not read ${dir}, whose commit names the image: detected dubious ownership in repository at '${dir}' To add an exception for this directory, call: git config --global --add safe.directory ${dir}`);
  });
});
