import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startGiteaServer, type TestGiteaServer } from './gitea-test-server';

/** As Gitea does, publishing a release makes its tag in the repository, from a commit the repository must have. */
describe('the Gitea test server with the repository\'s git data', () => {
  let dir: string;
  let repository: string;
  let gitea: TestGiteaServer;
  let pushed: string;
  const token = 'tags-spec-token';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-gitea-tags-'));
    repository = join(dir, 'repo.git');
    const work = join(dir, 'work');
    await execa('git', ['init', '-q', '--bare', '-b', 'main', repository]);
    await execa('git', ['init', '-q', '-b', 'main', work]);
    await writeFile(join(work, 'README'), 'x\n');
    const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: work });
    await git('add', '-A');
    await git('commit', '-qm', 'first');
    await git('push', '-q', repository, 'main');
    pushed = (await git('rev-parse', 'HEAD')).stdout.trim();
    gitea = await startGiteaServer({ gitRepository: repository, tokens: { [token]: { login: 'ci', canWrite: true } } });
  });
  afterEach(async () => {
    expect(gitea.violations()).toEqual([]);
    await gitea.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const call = (method: string, path: string, body: unknown) =>
    fetch(`${gitea.url}/api/v1/repos/admin/changemaker.lite${path}`, { method, headers: { authorization: `token ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const tags = async () => (await execa('git', ['-C', repository, 'tag', '--list'])).stdout;

  it('creates the tag at the target when a draft is published, and refuses a target the repository lacks', async () => {
    const draft = (await (await call('POST', '/releases', { tag_name: 'v1.0.0', target_commitish: pushed, draft: true })).json()) as { id: number };
    expect(await tags()).toBe('');
    expect((await call('PATCH', `/releases/${draft.id}`, { draft: false })).status).toBe(200);
    expect(await tags()).toBe('v1.0.0');

    // services/release/release.go createTag looks at the target only when publishing: a draft is made,
    // and the publishing PATCH fails with production Gitea's blank 500.
    const unpushed = 'a'.repeat(40);
    const orphan = await call('POST', '/releases', { tag_name: 'v1.1.0', target_commitish: unpushed, draft: true });
    expect(orphan.status).toBe(201);
    const refused = await call('PATCH', `/releases/${((await orphan.json()) as { id: number }).id}`, { draft: false });
    expect(refused.status).toBe(500);
    expect(((await refused.json()) as { message: string }).message).toBe('');
    expect((await call('POST', '/releases', { tag_name: 'v1.2.0', target_commitish: unpushed })).status).toBe(404);
    expect(await tags()).toBe('v1.0.0');
  });

  it('publishes a draft when its tag is pushed, dated by the tag, and makes it a draft again when the tag is deleted', async () => {
    const draft = (await (await call('POST', '/releases', { tag_name: 'v2.0.0', target_commitish: pushed, draft: true, body: 'notes' })).json()) as { id: number };
    await execa('git', ['-C', repository, 'tag', '-a', '-m', 'v2.0.0', 'v2.0.0', pushed], { env: { ...process.env, GIT_COMMITTER_DATE: '2026-03-04T05:06:07Z', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' } });
    const published = (await (await fetch(`${gitea.url}/api/v1/repos/admin/changemaker.lite/releases/tags/v2.0.0`)).json()) as { id: number; draft: boolean; body: string; published_at: string };
    expect(published).toMatchObject({ id: draft.id, draft: false, body: 'notes', published_at: '2026-03-04T05:06:07Z' });

    await execa('git', ['-C', repository, 'tag', '-d', 'v2.0.0']);
    expect((await fetch(`${gitea.url}/api/v1/repos/admin/changemaker.lite/releases/tags/v2.0.0`)).status).toBe(404);
    expect(gitea.releases().find((release) => release.id === draft.id)?.draft).toBe(true);
  });
});

describe('the Gitea test server\'s downloads', () => {
  let gitea: TestGiteaServer;
  const token = 'downloads-spec-token';
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${gitea.url}/api/v1/repos/admin/changemaker.lite${path}`, { ...init, headers: { authorization: `token ${token}`, ...init.headers } });
  const upload = async (id: number, name: string, content: string) => {
    const form = new FormData();
    form.append('attachment', new Blob([content]), name);
    return (await (await api(`/releases/${id}/assets?name=${encodeURIComponent(name)}`, { method: 'POST', body: form })).json()) as { browser_download_url: string };
  };

  beforeEach(async () => {
    gitea = await startGiteaServer({ tokens: { [token]: { login: 'ci', canWrite: true } } });
  });
  afterEach(async () => {
    expect(gitea.violations()).toEqual([]);
    await gitea.stop();
  });

  it('lists assets by name with download URLs by tag and name, which serve drafts to writers only', async () => {
    const { id } = (await (await api('/releases', { method: 'POST', body: JSON.stringify({ tag_name: 'v1.0.0+b1', draft: true }), headers: { 'content-type': 'application/json' } })).json()) as { id: number };
    const uploaded = await upload(id, 'b.txt', 'bee');
    await upload(id, 'a.txt', 'ay');
    expect(uploaded.browser_download_url).toMatch(/\/attachments\/[0-9a-f-]{36}$/);
    const listed = (await (await api(`/releases/${id}/assets`)).json()) as Array<{ name: string; browser_download_url: string }>;
    expect(listed.map((asset) => asset.name)).toEqual(['a.txt', 'b.txt']);
    expect(listed[0]!.browser_download_url).toBe(`${gitea.url}/admin/changemaker.lite/releases/download/v1.0.0+b1/a.txt`);
    expect(await (await fetch(listed[1]!.browser_download_url, { headers: { authorization: `token ${token}` } })).text()).toBe('bee');
    expect((await fetch(listed[1]!.browser_download_url)).status).toBe(404);

    await upload(id, 'a.txt', 'ay again');
    const twins = (await (await api(`/releases/${id}/assets`)).json()) as Array<{ browser_download_url: string }>;
    expect(twins.every((asset) => /\/attachments\//.test(asset.browser_download_url))).toBe(true);
  });
});
