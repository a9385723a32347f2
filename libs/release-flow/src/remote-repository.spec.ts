import { createReleaseRepository, type ReleaseRepository } from '@changemaker/testing';
import { remoteNamesRepository, remoteRepositoryProblem } from './remote-repository';

describe('whether the remote a release is pushed to is the Gitea repository it is published in', () => {
  const gitea = { url: 'https://gitea.example.org', repo: 'admin/changemaker.lite' };

  it.each([
    'https://gitea.example.org/admin/changemaker.lite.git',
    'https://gitea.example.org/admin/changemaker.lite',
    'https://gitea.example.org/admin/changemaker.lite/',
    'https://GITEA.example.org:443/Admin/Changemaker.Lite.git',
    'https://release-bot:s3cret@gitea.example.org/admin/changemaker.lite.git',
    'git@gitea.example.org:admin/changemaker.lite.git',
    'git@ssh.gitea.example.org:admin/changemaker.lite.git',
    'ssh://git@gitea.example.org:2222/admin/changemaker.lite.git',
    'gitea.example.org:/admin/changemaker.lite',
  ])('%s is it', (url) => {
    expect(remoteNamesRepository(url, gitea)).toBe(true);
  });

  it.each([
    'https://github.com/admin/changemaker.lite.git',
    'https://gitea.example.org/admin/other.git',
    'https://gitea.example.org/someone/changemaker.lite.git',
    'http://gitea.example.org:3000/admin/changemaker.lite.git',
    'https://gitea.example.org/gitea/admin/changemaker.lite.git',
    'git@gitea.example.org:admin/fork-of-changemaker.lite.git',
    'ssh://git@gitea.example.org/someone/changemaker.lite.git',
  ])('%s is another', (url) => {
    expect(remoteNamesRepository(url, gitea)).toBe(false);
  });

  it('is told by the path under GITEA_URL for a Gitea served under one', () => {
    const underPath = { url: 'https://example.org/gitea', repo: 'admin/changemaker.lite' };
    expect(remoteNamesRepository('https://example.org/gitea/admin/changemaker.lite.git', underPath)).toBe(true);
    expect(remoteNamesRepository('https://example.org/admin/changemaker.lite.git', underPath)).toBe(false);
    expect(remoteNamesRepository('git@example.org:admin/changemaker.lite.git', underPath)).toBe(true);
  });

  it.each(['/srv/git/changemaker.lite.git', '../changemaker.lite.git', 'file:///srv/git/changemaker.lite.git'])('%s, a path here, cannot be told', (url) => {
    expect(remoteNamesRepository(url, gitea)).toBeUndefined();
  });

  describe('asked of git', () => {
    let repository: ReleaseRepository;
    beforeEach(async () => {
      repository = await createReleaseRepository({ tagged: true, pushed: 'main and tag' });
    });
    afterEach(() => repository.remove());

    it("names the push URL another repository's, without its credentials, and the way to point it at Gitea's", async () => {
      const { work } = repository;
      await repository.git(work, 'remote', 'set-url', '--push', 'origin', 'https://ci:s3cret@github.com/admin/changemaker.lite.git');
      expect(await remoteRepositoryProblem(work, 'origin', gitea)).toBe(
        'git remote origin pushes to https://***@github.com/admin/changemaker.lite.git, not to https://gitea.example.org/admin/changemaker.lite, where the release is published and made public when its tag arrives: ' +
          'point origin at that repository (git remote set-url --push origin https://gitea.example.org/admin/changemaker.lite.git), or set GITEA_URL and GITEA_REPO to the Gitea origin is',
      );
      await repository.git(work, 'remote', 'set-url', '--push', 'origin', 'git@gitea.example.org:admin/changemaker.lite.git');
      expect(await remoteRepositoryProblem(work, 'origin', gitea)).toBeUndefined();
    });

    it('takes a remote that is a path here as it is, and says nothing of a remote that does not exist', async () => {
      expect(await remoteRepositoryProblem(repository.work, 'origin', gitea)).toBeUndefined();
      expect(await remoteRepositoryProblem(repository.work, 'upstream', gitea)).toBeUndefined();
    });
  });
});
