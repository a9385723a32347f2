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

    const unpushed = 'a'.repeat(40);
    const orphan = (await (await call('POST', '/releases', { tag_name: 'v1.1.0', target_commitish: unpushed, draft: true })).json()) as { id: number };
    const refused = await call('PATCH', `/releases/${orphan.id}`, { draft: false });
    expect(refused.status).toBe(500);
    expect(((await refused.json()) as { message: string }).message).toContain(`createTag::GetCommit[${unpushed}]`);
    expect((await call('POST', '/releases', { tag_name: 'v1.2.0', target_commitish: unpushed })).status).toBe(404);
    expect(await tags()).toBe('v1.0.0');
  });
});
