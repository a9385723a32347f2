import { createServer } from 'node:net';
import { startGiteaServer, type TestGiteaServer } from '@changemaker/testing';
import { findReleaseForPlan, GiteaUnreachableError, ReleaseClient, RepositoryNotFoundError, UnknownTokenError } from './index';

const token = 'tok-2b9d5e7a1c3f4680';
const noRetries = { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 };
const repo = 'admin/changemaker.lite';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('findReleaseForPlan', () => {
  let gitea: TestGiteaServer;
  afterEach(async () => {
    expect(gitea.violations()).toEqual([]);
    await gitea.stop();
  });

  it("finds the tag's release, a draft of the token's own included", async () => {
    gitea = await startGiteaServer({ tokens: { [token]: { login: 'ci', canWrite: true } } });
    gitea.addRelease({ tagName: 'v1.2.0', draft: true, author: 'ci' });
    const client = new ReleaseClient({ giteaUrl: gitea.url, repo, token, retry: noRetries });
    expect((await findReleaseForPlan(client, 'v1.2.0', false)).existing).toMatchObject({ tag_name: 'v1.2.0', draft: true });
    expect(await findReleaseForPlan(client, 'v9.9.9', true)).toEqual({ existing: undefined });
  });

  it('lets a dry run plan on when Gitea cannot be reached, saying what it assumed; a real run stops', async () => {
    gitea = await startGiteaServer();
    const client = new ReleaseClient({ giteaUrl: `http://127.0.0.1:${await closedPort()}`, repo, token, retry: noRetries });
    const lookup = await findReleaseForPlan(client, 'v1.2.0', true);
    expect(lookup.existing).toBeUndefined();
    expect(lookup.assumed).toMatch(/^Gitea not asked \(.*failed after 1 attempt.*\); planned as if no release exists for v1\.2\.0$/);
    await expect(findReleaseForPlan(client, 'v1.2.0', false)).rejects.toBeInstanceOf(GiteaUnreachableError);
  });

  it('lets a dry run with no token plan on when Gitea hides a private repository from it', async () => {
    gitea = await startGiteaServer({ privateRepo: true, tokens: { [token]: { login: 'ci', canWrite: true } } });
    const anonymous = new ReleaseClient({ giteaUrl: gitea.url, repo, retry: noRetries });
    expect((await findReleaseForPlan(anonymous, 'v1.2.0', true)).assumed).toMatch(/planned as if no release exists for v1\.2\.0/);
    await expect(findReleaseForPlan(anonymous, 'v1.2.0', false)).rejects.toBeInstanceOf(RepositoryNotFoundError);
  });

  it('fails even a dry run when Gitea refuses the token given: the real run would fail the same way', async () => {
    gitea = await startGiteaServer({ tokens: { [token]: { login: 'ci', canWrite: true } } });
    const wrongToken = new ReleaseClient({ giteaUrl: gitea.url, repo, token: 'tok-not-issued-by-this-gitea', retry: noRetries });
    await expect(findReleaseForPlan(wrongToken, 'v1.2.0', true)).rejects.toBeInstanceOf(UnknownTokenError);
  });
});
