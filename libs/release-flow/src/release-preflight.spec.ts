import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preflightRefusal, releasePreflight } from './release-preflight';

describe('the release preflight', () => {
  let dockerConfig: string;
  beforeAll(async () => {
    dockerConfig = await mkdtemp(join(tmpdir(), 'cm-preflight-'));
  });
  afterAll(() => rm(dockerConfig, { recursive: true, force: true }));

  const settings = { GITEA_URL: 'https://gitea.example.org', GITEA_REPO: 'admin/changemaker.lite', GITEA_REGISTRY: 'gitea.example.org/admin', GITEA_REGISTRY_API_TOKEN: 'tok', GITEA_REGISTRY_USER: 'ci', GITEA_REGISTRY_PASSWORD: 'pw' };
  const check = (env: Record<string, string>, options: { publishes?: boolean; dryRun?: boolean } = {}) =>
    releasePreflight({ env: { DOCKER_CONFIG: dockerConfig, ...env }, publishes: options.publishes ?? true, dryRun: options.dryRun ?? false });

  it('passes a release with every setting well-formed and every secret publishing needs', async () => {
    expect(await check(settings)).toEqual({ problems: [], notices: [] });
    expect(await check({ ...settings, GITEA_REGISTRY: '127.0.0.1:5000/admin', GITEA_REGISTRY_USER: '', GITEA_REGISTRY_PASSWORD: '' })).toEqual({ problems: [], notices: [] });
  });

  it.each([
    [{ GITEA_URL: 'ftp://127.0.0.1:9' }, 'GITEA_URL "ftp://127.0.0.1:9" is not an http(s) URL'],
    [{ GITEA_URL: 'https://admin:s3cret@gitea.example.org' }, 'GITEA_URL carries credentials'],
    [{ GITEA_REPO: 'bad' }, 'GITEA_REPO "bad" is not owner/name'],
    [{ GITEA_REGISTRY: 'https://gitea.example.org/admin' }, 'GITEA_REGISTRY "https://gitea.example.org/admin" is not a registry host[:port][/namespace]'],
    [{ GITEA_REGISTRY: 'admin' }, 'GITEA_REGISTRY "admin" is not a registry host[:port][/namespace]'],
  ])('refuses %j, in a dry run too', async (change, problem) => {
    for (const dryRun of [false, true]) {
      const preflight = await check({ ...settings, ...change }, { dryRun });
      expect(preflight.problems).toEqual([expect.stringContaining(problem)]);
      expect(preflightRefusal(preflight)).toMatch(/^the release settings are not usable; nothing was written:\n {2}/);
    }
    expect(preflightRefusal(await check({ ...settings, GITEA_URL: 'https://admin:s3cret@gitea.example.org' }))).not.toContain('s3cret');
  });

  it('refuses a release that publishes without the token or the registry credentials; a dry run says so instead; a run that does not publish needs neither', async () => {
    const bare = { ...settings, GITEA_REGISTRY_API_TOKEN: '', GITEA_REGISTRY_USER: '', GITEA_REGISTRY_PASSWORD: '' };
    const real = await check(bare);
    expect(real.problems).toEqual([expect.stringContaining('GITEA_REGISTRY_API_TOKEN is not set'), expect.stringContaining('no credentials for the registry gitea.example.org')]);
    const dry = await check(bare, { dryRun: true });
    expect(dry).toEqual({ problems: [], notices: real.problems });
    expect(await check(bare, { publishes: false })).toEqual({ problems: [], notices: [] });
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { 'gitea.example.org': { auth: Buffer.from('ci:pw').toString('base64') } } }));
    expect((await check({ ...bare, GITEA_REGISTRY_API_TOKEN: 'tok' })).problems).toEqual([]);
  });
});
