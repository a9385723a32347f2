import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createThrowawayWorkspace, runNx, type ThrowawayWorkspace } from '@changemaker/testing';

const loopback = { GITEA_URL: 'http://127.0.0.1:9', GITEA_REGISTRY: '127.0.0.1:9/admin' };

/** A team adds a docs site that keeps its own VERSION file, beside the product's docker/VERSION. */
describe('a second project with a VERSION file', () => {
  let workspace: ThrowawayWorkspace;
  let nxJson: Record<string, { projects?: string[] }>;

  beforeAll(async () => {
    workspace = await createThrowawayWorkspace(join(__dirname, '../../../..'));
    await mkdir(join(workspace.root, 'apps/docs'), { recursive: true });
    await writeFile(join(workspace.root, 'apps/docs/project.json'), `${JSON.stringify({ name: 'docs' })}\n`);
    await writeFile(join(workspace.root, 'apps/docs/VERSION'), 'v0.3.0\n');
    nxJson = JSON.parse(await readFile(join(workspace.root, 'nx.json'), 'utf8'));
  }, 120_000);
  afterAll(() => workspace?.remove());

  const targetsOf = async (project: string) => {
    const shown = await runNx(workspace.root, ['show', 'project', project, '--json'], loopback);
    expect(shown.exitCode).toBe(0);
    return Object.keys(JSON.parse(shown.stdout).targets as object).sort();
  };

  it("leaves the images their release targets, and the docs site none, while nx.json's release names the product", async () => {
    expect(nxJson['release']!.projects).toEqual(['docker']);
    expect(await targetsOf('api')).toContain('nx-release-publish');
    expect(await targetsOf('docker')).toEqual(expect.arrayContaining(['abandon-release', 'nx-release-publish']));
    expect(await targetsOf('docs')).toEqual([]);
  }, 120_000);

  it('stops nx release before anything is written when nx.json releases both, saying which project to name', async () => {
    const both = { ...nxJson, release: { ...nxJson['release'], projects: ['docker', 'docs'] } };
    await writeFile(join(workspace.root, 'nx.json'), `${JSON.stringify(both, null, 2)}\n`);
    await workspace.commitAll('chore: release the docs too');
    const head = await workspace.git('rev-parse', 'HEAD');
    const release = await runNx(workspace.root, ['release', '1.0.0', '--yes'], loopback);
    expect(release.exitCode).not.toBe(0);
    expect(release.all).toMatch(
      /nothing was written: (docker|docs) has no nx-release-publish target: the plugin gives one to a single product, the project with a VERSION file, or, when several projects have one, the one of them that nx\.json's release\.projects \(or a release group\) names; name exactly one such project there/,
    );
    expect(await workspace.git('rev-parse', 'HEAD')).toBe(head);
    expect(await workspace.git('tag', '--list')).toBe('');
    expect(await workspace.git('status', '--porcelain')).toBe('');
  }, 120_000);
});
