import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGiteaServer, type TestGiteaServer } from '@changemaker/testing';
import { registryProbeRepository, releaseServicesProblems } from './release-preflight';

const token = 'tok-services-preflight-5e21';
const readOnlyToken = 'tok-services-preflight-reader-90b4';

/**
 * The one question to Gitea and to the registry a real release asks before it writes anything: each
 * way either can be unusable is refused then, in words that name the setting, never the token.
 */
describe('the release preflight of Gitea and the registry', () => {
  let gitea: TestGiteaServer;
  let registry: Server;
  let registryHost: string;
  const asked: string[] = [];

  beforeAll(async () => {
    gitea = await startGiteaServer({ tokens: { [token]: { login: 'release-manager', canWrite: true }, [readOnlyToken]: { login: 'reader', canWrite: false } } });
    // A registry that holds nothing: every manifest is unknown, as the probe's is.
    registry = createServer((request, response) => {
      asked.push(`${request.method} ${request.url}`);
      response.writeHead(request.url === '/v2/' ? 200 : 404, { 'content-type': 'application/json' }).end(request.method === 'HEAD' ? undefined : '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    });
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    registryHost = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await gitea?.stop();
    await new Promise((resolve) => registry?.close(resolve));
  });

  const env = (change: Record<string, string> = {}) => ({
    GITEA_URL: gitea.url,
    GITEA_REPO: `${gitea.owner}/${gitea.repo}`,
    GITEA_REGISTRY: `${registryHost}/admin`,
    GITEA_REGISTRY_API_TOKEN: token,
    ...change,
  });

  it('passes when the repository answers the token and the registry answers, asking each once', async () => {
    asked.length = 0;
    expect(await releaseServicesProblems(env())).toEqual([]);
    expect(asked).toContain(`HEAD /v2/admin/${registryProbeRepository}/manifests/latest`);
  });

  it('refuses a token that may read but not write releases, having changed nothing in Gitea', async () => {
    const problems = await releaseServicesProblems(env({ GITEA_REGISTRY_API_TOKEN: readOnlyToken }), { attempts: 1 });
    expect(problems).toEqual([expect.stringMatching(/^Gitea: 403 from Gitea on admin\/changemaker\.lite: the token lacks the write:repository scope or write access to the repository/)]);
    expect(problems.join(' ')).not.toContain('tok-');
    expect(gitea.releases()).toEqual([]);
  });

  it('refuses a GITEA_URL with a path where no Gitea answers (the web root is https://host or https://host/subpath)', async () => {
    expect(await releaseServicesProblems(env({ GITEA_URL: `${gitea.url}/gitea/extra` }), { attempts: 1 })).toEqual([
      `Gitea: Repository ${gitea.owner}/${gitea.repo} not found on ${gitea.url}/gitea/extra (404): check GITEA_URL and GITEA_REPO (owner/name), that the token can see the repository, and that its Releases are turned on (the repository's Settings; Gitea answers 404 when they are off).`,
    ]);
  });

  it.each([
    [{ GITEA_REPO: 'admin/nope' }, 'Gitea: Repository admin/nope not found on '],
    [{ GITEA_REGISTRY_API_TOKEN: 'tok-WRONG-1234' }, 'the token is unknown to this Gitea'],
    [{ GITEA_URL: 'http://127.0.0.1:9' }, 'ECONNREFUSED 127.0.0.1:9'],
    [{ GITEA_REGISTRY: '127.0.0.1:9/admin' }, 'the registry: registry 127.0.0.1:9 is unreachable'],
  ])('refuses %j in one line per server, never repeating the token', async (change, problem) => {
    const problems = await releaseServicesProblems(env(change), { attempts: 1 });
    expect(problems).toEqual([expect.stringContaining(problem)]);
    expect(problems[0]!.split('\n')).toHaveLength(1);
    expect(problems.join(' ')).not.toContain('tok-');
  });
});
