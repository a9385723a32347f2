import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { createThrowawayWorkspace, runNx, startGiteaServer, type TestGiteaServer, type ThrowawayWorkspace } from '@changemaker/testing';

const token = 'fresh-clone-token-77c1';
const workspaceRoot = resolve(__dirname, '../../../../..');

/**
 * The README's `nx run docker:publish-release --tag v1.2.3 --dry-run` on a fresh clone: its
 * package-release dependency runs as a dry run too and writes nothing, so the plan is made with
 * the files it would write, built in memory, never with files another commit left in dist/release.
 */
describe('nx run docker:publish-release --dry-run on a fresh clone', () => {
  let workspace: ThrowawayWorkspace;
  let gitea: TestGiteaServer;

  beforeAll(async () => {
    [workspace, gitea] = await Promise.all([createThrowawayWorkspace(workspaceRoot), startGiteaServer({ tokens: { [token]: { login: 'ci', canWrite: true } } })]);
  }, 120_000);

  afterAll(async () => {
    await gitea?.stop();
    await workspace?.remove();
  });

  const nx = (...args: string[]) =>
    runNx(workspace.root, [...args, '--skip-nx-cache'], { GITEA_URL: gitea.url, GITEA_REPO: `${gitea.owner}/${gitea.repo}`, GITEA_REGISTRY_API_TOKEN: token, GITEA_REGISTRY: '127.0.0.1:9/admin' });

  it('plans every call with the files package-release would write, and writes none', async () => {
    const result = await nx('run', 'docker:publish-release', '--tag', 'v1.2.3', '--dry-run');
    expect(result.exitCode).toBe(0);
    expect(result.all).not.toContain('not found');
    expect(result.all).toMatch(/upload changemaker-lite-v1\.2\.3\.tar\.gz \(\d+ bytes, sha256 [0-9a-f]{64}\)/);
    expect(result.all).toContain('upload SHA256SUMS');
    expect(result.all).toContain('nothing was changed');
    expect(existsSync(join(workspace.root, 'dist/release'))).toBe(false);
    expect(gitea.requests().filter((request) => request.method !== 'GET')).toEqual([]);
  }, 120_000);

  it('says so when dist/release holds the files of another release, and plans with fresh ones', async () => {
    // A real package needs its tag at HEAD.
    await workspace.git('tag', 'v1.2.2');
    const packaged = await nx('run', 'docker:package-release', '--tag', 'v1.2.2');
    expect(packaged.exitCode).toBe(0);
    const sums = await execa('cat', [join(workspace.root, 'dist/release/SHA256SUMS')]);
    const result = await nx('run', 'docker:publish-release', '--tag', 'v1.2.3', '--dry-run');
    expect(result.exitCode).toBe(0);
    expect(result.all).toMatch(/note: \S+dist\/release holds other release files \(v1\.2\.2 from commit [0-9a-f]{12}\) than package-release would write now for v1\.2\.3/);
    expect(result.all).toContain('upload changemaker-lite-v1.2.3.tar.gz');
    expect((await execa('cat', [join(workspace.root, 'dist/release/SHA256SUMS')])).stdout).toBe(sums.stdout);
  }, 120_000);
});
