import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { createReleaseRepository, type ReleaseRepository } from '@changemaker/testing';
import { pushRelease, readReleaseCommit, releaseRefs } from './git-remote';
import { GitPushError, ReleaseBranchMovedError, ReleasePushDeclinedError, ReleaseTagError, ReleaseTagTakenError } from './release-flow-errors';

describe('the release commit and its push', () => {
  let repository: ReleaseRepository;
  let dir: string;
  let work: string;
  let origin: string;
  const git = (cwd: string, ...args: string[]) => repository.git(cwd, ...args);

  beforeEach(async () => {
    repository = await createReleaseRepository({ tagged: true });
    ({ dir, work, origin } = repository);
  });
  afterEach(() => repository.remove());

  it('pushes the branch and the tag together, and a second push changes nothing and succeeds', async () => {
    const commit = await readReleaseCommit(work, 'v1.0.0');
    expect(commit).toMatchObject({ branch: 'main', tagged: true });
    expect(releaseRefs(commit, 'v1.0.0')).toEqual(['HEAD:refs/heads/main', 'refs/tags/v1.0.0']);
    await pushRelease(work, 'origin', releaseRefs(commit, 'v1.0.0'), 'stack');
    await pushRelease(work, 'origin', releaseRefs(commit, 'v1.0.0'), 'stack');
    expect(await git(origin, 'rev-parse', 'main')).toBe(commit.sha);
    expect(await git(origin, 'tag', '--list')).toBe('v1.0.0');
  });

  it('pushes nothing when the remote branch moved on, and says what to do', async () => {
    const other = join(dir, 'other');
    await git(work, 'push', '-q', 'origin', 'main');
    await execa('git', ['clone', '-q', origin, other]);
    await writeFile(join(other, 'README'), 'someone else\n');
    await git(other, 'add', '-A');
    await git(other, 'commit', '-qm', 'docs: someone else');
    await git(other, 'push', '-q', 'origin', 'main');
    await writeFile(join(work, 'VERSION'), 'v1.1.0\n');
    await git(work, 'commit', '-qam', 'chore(release): v1.1.0');
    await git(work, 'tag', '-a', 'v1.1.0', '-m', 'v1.1.0');
    const commit = await readReleaseCommit(work, 'v1.1.0');
    const push = pushRelease(work, 'origin', releaseRefs(commit, 'v1.1.0'), 'stack');
    await expect(push).rejects.toBeInstanceOf(ReleaseBranchMovedError);
    // A re-run of nx release publish would be refused the same way: the release commit is not on top of origin's main.
    await expect(push).rejects.toThrow(
      "git push to origin was refused: origin's main has moved on since the release commit was made (someone pushed to it), so nothing was pushed and v1.1.0 is a draft, invisible to users. " +
        "nx release publish cannot finish it, since the release commit is not on top of origin's main: abandon it with npx nx run stack:abandon-release (v1.1.0's draft, tag and release commit), then git pull --rebase origin main and run nx release again",
    );
    expect(await git(origin, 'tag', '--list')).toBe('');
  });

  it('pushes nothing when the remote has the tag at another commit, and says to abandon and release the next version', async () => {
    const other = join(dir, 'other');
    await git(work, 'push', '-q', 'origin', 'main');
    await execa('git', ['clone', '-q', origin, other]);
    await writeFile(join(work, 'VERSION'), 'v1.1.0\n');
    await git(work, 'commit', '-qam', 'chore(release): v1.1.0');
    await git(work, 'tag', '-a', 'v1.1.0', '-m', 'v1.1.0');
    await git(other, 'tag', '-a', 'v1.1.0', '-m', 'v1.1.0 by hand');
    await git(other, 'push', '-q', 'origin', 'v1.1.0');
    const push = pushRelease(work, 'origin', releaseRefs(await readReleaseCommit(work, 'v1.1.0'), 'v1.1.0'), 'stack');
    await expect(push).rejects.toBeInstanceOf(ReleaseTagTakenError);
    await expect(push).rejects.toThrow(
      'git push to origin was refused: origin already has v1.1.0, at another commit (someone released it meanwhile), so nothing was pushed and this v1.1.0 is a draft, invisible to users. ' +
        "nx release publish cannot finish it: abandon it with npx nx run stack:abandon-release (its draft, tag and release commit), then git pull --tags origin and release the next version",
    );
    expect(await git(origin, 'rev-parse', 'main')).not.toBe(await git(work, 'rev-parse', 'HEAD'));
  });

  /** A pre-receive hook as Gitea's own (cmd/hook.go fail): a blank line on stdout, `Gitea: <why>` on stderr, exit 1. */
  const refuseInOrigin = async (said: string) => {
    const hook = join(origin, 'hooks', 'pre-receive');
    await writeFile(hook, `#!/bin/sh\necho\n${said ? `echo "${said}" >&2\n` : ''}exit 1\n`);
    await chmod(hook, 0o755);
  };

  it("a push the remote's rules refuse (Gitea's protected branch) pushes nothing and gives the remote's reason and both ways on", async () => {
    await refuseInOrigin('Gitea: Not allowed to push to protected branch main');
    const push = pushRelease(work, 'origin', releaseRefs(await readReleaseCommit(work, 'v1.0.0'), 'v1.0.0'), 'stack');
    await expect(push).rejects.toBeInstanceOf(ReleasePushDeclinedError);
    await expect(push).rejects.toThrow(
      "git push to origin was refused by the remote's own rules (Gitea: Not allowed to push to protected branch main), so nothing was pushed and v1.0.0 is a draft, invisible to users: " +
        "let the git user this clone pushes as push to the branch and create v1.0.0 (on Gitea: the repository's branch and tag protection), then re-run nx release publish; or abandon it with npx nx run stack:abandon-release",
    );
    expect(await git(origin, 'tag', '--list')).toBe('');
  });

  it('a refusal whose hook says nothing is given in git\'s words', async () => {
    await refuseInOrigin('');
    await expect(pushRelease(work, 'origin', releaseRefs(await readReleaseCommit(work, 'v1.0.0'), 'v1.0.0'), 'stack')).rejects.toThrow(
      "git push to origin was refused by the remote's own rules (pre-receive hook declined), so nothing",
    );
  });

  it('a push that fails otherwise (origin unreachable) pushes nothing and says to fix it and re-run nx release publish', async () => {
    await git(work, 'remote', 'set-url', 'origin', join(dir, 'gone.git'));
    const push = pushRelease(work, 'origin', releaseRefs(await readReleaseCommit(work, 'v1.0.0'), 'v1.0.0'), 'stack');
    await expect(push).rejects.toBeInstanceOf(GitPushError);
    await expect(push).rejects.toThrow(/^git push to origin of HEAD:refs\/heads\/main refs\/tags\/v1\.0\.0 failed \(.+\); the release is a draft, invisible to users: fix the push .*re-run nx release publish$/);
  });

  it('refuses a tag that is not at HEAD, naming both commits', async () => {
    await writeFile(join(work, 'VERSION'), 'v1.0.1\n');
    await git(work, 'commit', '-qam', 'fix: later');
    await expect(readReleaseCommit(work, 'v1.0.0')).rejects.toThrow(ReleaseTagError);
    await expect(readReleaseCommit(work, 'v1.0.0')).rejects.toThrow(/v1\.0\.0 points at [0-9a-f]{12} but HEAD is [0-9a-f]{12}: check out v1\.0\.0/);
  });

  (process.getuid?.() === 0 ? it : it.skip)("refuses a checkout git will not read, another user's, in git's words rather than as no checkout", async () => {
    await execa('chown', ['-R', 'nobody', work]);
    await expect(readReleaseCommit(work, 'v1.0.0')).rejects.toThrow(`git will not read ${work}: detected dubious ownership in repository at '${work}'`);
  });
});
