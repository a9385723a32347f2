import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startGiteaServer, type StartGiteaServerOptions, type TestGiteaServer } from './gitea-test-server';

/** The releases API as Gitea's source answers it (see /work/notes/gitea-releases-audit.md for each row's source). */
describe('the Gitea test server answers the releases API as Gitea does', () => {
  const writer = 'releases-spec-writer';
  const reader = 'releases-spec-reader';
  let gitea: TestGiteaServer;

  const start = async (options: StartGiteaServerOptions = {}) => {
    gitea = await startGiteaServer({ tokens: { [writer]: { login: 'ci', canWrite: true }, [reader]: { login: 'viewer', canWrite: false } }, ...options });
  };
  const api = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token = writer, ...rest } = init;
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(rest.headers as Record<string, string>) };
    if (token) headers['authorization'] = `token ${token}`;
    return fetch(`${gitea.url}/api/v1/repos/admin/changemaker.lite${path}`, { ...rest, headers });
  };
  const json = async <T>(response: Response | Promise<Response>) => (await (await response).json()) as T;
  const create = (body: Record<string, unknown>) => json<{ id: number; created_at: string; published_at: string; name: string }>(api('/releases', { method: 'POST', body: JSON.stringify(body) }));
  const upload = async (id: number, name: string, content: string) => {
    const form = new FormData();
    form.append('attachment', new Blob([content]), name);
    return json<{ uuid: string; browser_download_url: string }>(fetch(`${gitea.url}/api/v1/repos/admin/changemaker.lite/releases/${id}/assets?name=${name}`, { method: 'POST', body: form, headers: { authorization: `token ${writer}` } }));
  };

  afterEach(async () => {
    expect(gitea.violations()).toEqual([]);
    await gitea.stop();
  });

  it('lists newest first by creation time in whole seconds, then id; a draft is re-dated by every edit', async () => {
    await start();
    const older = gitea.addRelease({ tagName: 'v1.0.0', createdAt: '2026-01-01T00:00:00.900Z' });
    const draft = gitea.addRelease({ tagName: 'v0.9.0', draft: true, createdAt: '2025-01-01T00:00:00.000Z' });
    const sameSecond = gitea.addRelease({ tagName: 'v1.0.1', createdAt: '2026-01-01T00:00:00.100Z' });
    const tags = async () => (await json<Array<{ tag_name: string }>>(api('/releases'))).map((release) => release.tag_name);
    expect(await tags()).toEqual(['v1.0.1', 'v1.0.0', 'v0.9.0']);
    expect(sameSecond.id).toBeGreaterThan(older.id);
    await api(`/releases/${draft.id}`, { method: 'PATCH', body: JSON.stringify({ body: 'edited' }) });
    expect(await tags()).toEqual(['v0.9.0', 'v1.0.1', 'v1.0.0']);
    const listed = await json<Array<{ created_at: string; published_at: string }>>(api('/releases'));
    expect(listed[2]).toMatchObject({ created_at: '2026-01-01T00:00:00Z', published_at: '2026-01-01T00:00:00Z' });
  });

  it('filters by draft and pre-release, pages by limit (30 when not positive) and keeps the asked limit in Link', async () => {
    await start({ maxPageSize: 50 });
    for (let i = 0; i < 33; i += 1) gitea.addRelease({ tagName: `v0.0.${i}`, prerelease: i === 0 });
    gitea.addRelease({ tagName: 'v1.0.0', draft: true });
    expect(await json<unknown[]>(api('/releases?limit=0'))).toHaveLength(30);
    expect(await json<unknown[]>(api('/releases?limit=500'))).toHaveLength(34);
    expect(await json<unknown[]>(api('/releases?pre-release=true'))).toHaveLength(1);
    expect(await json<unknown[]>(api('/releases?draft=1&pre-release=false'))).toHaveLength(1);
    const page = await api('/releases?limit=20&draft=false');
    expect(page.headers.get('x-total-count')).toBe('33');
    expect(page.headers.get('link')).toMatch(/^<[^>]*\/releases\?limit=20&draft=false&page=2>; rel="next",<[^>]*page=2>; rel="last"$/);
  });

  it('answers releases/latest with the newest published non-prerelease by creation time: publishing dates a release only when it makes the tag', async () => {
    await start({ commits: ['c1'] });
    const later = await create({ tag_name: 'v2.0.0', target_commitish: 'c1', draft: true });
    gitea.addRelease({ tagName: 'v1.0.0', createdAt: '2026-01-01T00:00:00Z' });
    gitea.addRelease({ tagName: 'v3.0.0-rc.1', prerelease: true, createdAt: '2999-01-01T00:00:00Z' });
    expect((await json<{ tag_name: string }>(api('/releases/latest'))).tag_name).toBe('v1.0.0');
    gitea.releases().find((release) => release.id === later.id)!.createdAt = '2025-01-01T00:00:00Z';
    const published = await json<{ created_at: string }>(api(`/releases/${later.id}`, { method: 'PATCH', body: JSON.stringify({ draft: false }) }));
    expect(Date.parse(published.created_at)).toBeGreaterThan(Date.parse('2026-01-01T00:00:00Z'));
    expect((await json<{ tag_name: string }>(api('/releases/latest'))).tag_name).toBe('v2.0.0');
  });

  it('looks tags up lower-cased, refuses a second release of a tag with 409, and renames a tag and target by PATCH', async () => {
    await start({ commits: ['c1', 'c2'] });
    const { id } = await create({ tag_name: 'v1.0.0', target_commitish: 'c1', draft: true, name: 'one' });
    expect((await json<{ id: number }>(api('/releases/tags/V1.0.0'))).id).toBe(id);
    const conflict = await api('/releases', { method: 'POST', body: JSON.stringify({ tag_name: 'V1.0.0', draft: true }) });
    expect(conflict.status).toBe(409);
    expect((await conflict.json()) as unknown).toEqual({ message: 'Release is has no Tag', url: `${gitea.url}/api/swagger` });
    const renamed = await json<{ tag_name: string; target_commitish: string; name: string }>(api(`/releases/${id}`, { method: 'PATCH', body: JSON.stringify({ tag_name: 'v1.0.1', target_commitish: 'c2', name: '' }) }));
    expect(renamed).toMatchObject({ tag_name: 'v1.0.1', target_commitish: 'c2', name: 'one' });
    expect((await api('/releases/tags/v1.0.0')).status).toBe(404);
    expect((await create({ tag_name: 'v4.0.0', draft: true })).name).toBe('');
  });

  it("deletes a release but not its tag: the tag's row is hidden everywhere, and the next create of the tag reuses it, id included", async () => {
    await start({ commits: ['c1'] });
    const published = await create({ tag_name: 'v1.0.0', target_commitish: 'c1', name: 'one' });
    expect((await api(`/releases/${published.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await (await api(`/releases/${published.id}`)).json()).toEqual({ errors: null, message: "The target couldn't be found.", url: `${gitea.url}/api/swagger` });
    expect((await api('/releases/tags/v1.0.0')).status).toBe(404);
    expect(await json<unknown[]>(api('/releases'))).toEqual([]);
    const again = await json<{ id: number; target_commitish: string; created_at: string }>(api('/releases', { method: 'POST', body: JSON.stringify({ tag_name: 'V1.0.0' }) }));
    expect(again).toMatchObject({ id: published.id, tag_name: 'v1.0.0', target_commitish: '' });
    // Its tag still exists: publishing made none, so the release keeps the deleted one's date.
    expect(again.created_at).toBe(published.created_at);
  });

  it("takes the target as given over a deleted draft's row, so publishing it without one fails with a 500, not a 404", async () => {
    await start({ commits: ['main', 'c1'] });
    const draft = await create({ tag_name: 'v2.0.0', target_commitish: 'c1', draft: true });
    expect((await api(`/releases/tags/v2.0.0`, { method: 'DELETE' })).status).toBe(204);
    const refused = await api('/releases', { method: 'POST', body: JSON.stringify({ tag_name: 'v2.0.0' }) });
    expect(refused.status).toBe(500);
    const again = await create({ tag_name: 'v2.0.0', draft: true });
    expect(again.id).toBe(draft.id);
    expect((await api(`/releases/${again.id}`, { method: 'PATCH', body: JSON.stringify({ draft: false }) })).status).toBe(500);
    expect((await api(`/releases/${again.id}`, { method: 'PATCH', body: JSON.stringify({ draft: false, target_commitish: 'c1' }) })).status).toBe(200);
  });

  it('refuses an attachment over FILE_MAX_SIZE with 413 and ErrContentTooLarge\'s text, with the swagger URL every API error names', async () => {
    await start({ attachmentMaxSize: 8 });
    const { id } = await create({ tag_name: 'v1.0.0', draft: true });
    const form = new FormData();
    form.append('attachment', new Blob(['nine bytes']), 'a.txt');
    const refused = await fetch(`${gitea.url}/api/v1/repos/admin/changemaker.lite/releases/${id}/assets`, { method: 'POST', body: form, headers: { authorization: `token ${writer}` } });
    expect(refused.status).toBe(413);
    expect(await refused.json()).toEqual({ message: 'attachment exceeds limit 8', url: `${gitea.url}/api/swagger` });
  });

  it('reads `token` (lower case) or `Bearer` tokens; another header is anonymous; a token without write scope is refused before the repository is looked up', async () => {
    await start();
    gitea.addRelease({ tagName: 'v1.0.0', draft: true });
    expect((await api('/releases/tags/v1.0.0', { token: null, headers: { authorization: `Bearer ${writer}` } })).status).toBe(200);
    expect((await api('/releases/tags/v1.0.0', { token: null, headers: { authorization: `Token ${writer}` } })).status).toBe(404);
    const refused = await fetch(`${gitea.url}/api/v1/repos/admin/no-such-repo/releases`, { method: 'POST', headers: { authorization: `token ${reader}` }, body: '{}' });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toBe('token does not have at least one of required scope(s), required=[write:repository], token scope=read:repository');
    const anonymous = await api('/releases', { method: 'POST', token: null, body: '{}' });
    expect([anonymous.status, ((await anonymous.json()) as { message: string }).message]).toEqual([401, 'token is required']);
    expect((await json<{ errors: unknown }>(api('/releases/tags/v9.9.9'))).errors).toBeNull();
  });

  it("serves a draft's attachment at /attachments/<uuid> to any reader, and by tag and name to writers only", async () => {
    await start();
    const { id } = await create({ tag_name: 'v1.0.0', draft: true });
    const { uuid } = await upload(id, 'a.txt', 'ay');
    expect(await (await fetch(`${gitea.url}/attachments/${uuid}`)).text()).toBe('ay');
    expect((await fetch(`${gitea.url}/admin/changemaker.lite/releases/download/v1.0.0/a.txt`)).status).toBe(404);
    expect((await fetch(`${gitea.url}/admin/changemaker.lite/releases/download/v1.0.0/a.txt`, { headers: { authorization: `token ${writer}` } })).status).toBe(200);
  });

  it('like Gitea 1.20, reads no token at /{owner}/{repo}/releases/download/: a private repository answers 404 there, and only there', async () => {
    await start({ privateRepo: true, tokenlessDownloadByName: true });
    const { id } = await create({ tag_name: 'v1.0.0', draft: true });
    const { uuid } = await upload(id, 'a.txt', 'ay');
    const [listed] = await json<Array<{ browser_download_url: string }>>(api(`/releases/${id}/assets`));
    expect(listed!.browser_download_url).toBe(`${gitea.url}/admin/changemaker.lite/releases/download/v1.0.0/a.txt`);
    expect((await fetch(listed!.browser_download_url, { headers: { authorization: `token ${writer}` } })).status).toBe(404);
    expect(await (await fetch(`${gitea.url}/attachments/${uuid}`, { headers: { authorization: `token ${writer}` } })).text()).toBe('ay');
  });

  it('refuses to create a release in an empty repository (422 "repo is empty")', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cm-gitea-empty-'));
    try {
      await execa('git', ['init', '-q', '--bare', '-b', 'main', join(dir, 'repo.git')]);
      await start({ gitRepository: join(dir, 'repo.git') });
      const refused = await api('/releases', { method: 'POST', body: JSON.stringify({ tag_name: 'v1.0.0', draft: true }) });
      expect([refused.status, ((await refused.json()) as { message: string }).message]).toEqual([422, 'repo is empty']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
