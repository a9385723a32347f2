import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { startReleaseRehearsal, type ReleaseRehearsal } from '../../../../demo/release-rehearsal';

/**
 * `nx release --projects` / `--groups`, as a team used to release groups types them (its nx.json
 * names the product's group `product`, with the settings the workspace gives release): Nx runs a
 * filtered publish step without its tasks' dependencies, so the product's task would run without
 * the image tasks. A whole nx release refuses them before writing anything; a filtered
 * `nx release publish` stops at the image check, publishing nothing, and says why.
 */
describe('nx release with --projects or --groups', () => {
  let rehearsal: ReleaseRehearsal;

  beforeAll(async () => {
    rehearsal = await startReleaseRehearsal();
    const nxJsonPath = join(rehearsal.workspace.root, 'nx.json');
    const nxJson = JSON.parse(await readFile(nxJsonPath, 'utf8'));
    const { projects, projectsRelationship, releaseTag, ...shared } = nxJson.release;
    nxJson.release = { ...shared, groups: { product: { projects, projectsRelationship, releaseTag } } };
    await writeFile(nxJsonPath, `${JSON.stringify(nxJson, null, 2)}\n`);
    await rehearsal.workspace.commitAll('chore: the product is released as the group product');
    await rehearsal.workspace.git('push', '-q', 'origin', 'main');
    expect((await rehearsal.nx(['run', 'docker:mirror-images', `--manifest=${rehearsal.mirrorList}`])).exitCode).toBe(0);
  }, 300_000);

  afterAll(() => rehearsal?.stop());

  afterEach(() => {
    expect(rehearsal.gitea.violations()).toEqual([]);
  });

  const git = (...args: string[]) => rehearsal.workspace.git(...args);
  const remoteTags = async () => (await execa('git', ['-C', rehearsal.remote, 'tag', '--list'])).stdout;

  it('a whole nx release refuses them, in a dry run too, before anything is written; with --skip-publish they do no harm', async () => {
    const head = await git('rev-parse', 'HEAD');
    for (const args of [['release', '1.0.0', '--groups=product', '--yes'], ['release', '1.0.0', '-p', 'docker', '--dry-run']]) {
      const refused = await rehearsal.nx(args);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.all).toContain('nothing was written: nx release --projects (or --groups) makes Nx run the publish step without the tasks it depends on');
      expect(await git('rev-parse', 'HEAD')).toBe(head);
      expect(await git('tag', '--list')).toBe('');
      expect(await git('status', '--porcelain')).toBe('');
    }
    expect(rehearsal.gitea.releases()).toEqual([]);
    const versioned = await rehearsal.nx(['release', '1.0.0', '--groups=product', '--skip-publish']);
    expect(versioned.exitCode).toBe(0);
    expect(await git('tag', '--points-at', 'HEAD')).toBe('v1.0.0');
  }, 300_000);

  it('a filtered nx release publish publishes nothing and says the image tasks were left out; without the filter it then finishes the release', async () => {
    const filtered = await rehearsal.nx(['release', 'publish', '--groups=product']);
    expect(filtered.exitCode).not.toBe(0);
    expect(filtered.all).toContain(
      'api (' + `${rehearsal.testbed.registry.host}/admin/changemaker-api:v1.0.0: its nx-release-publish task was not part of this run (--projects, --groups and --exclude-task-dependencies leave the image tasks out): re-run npx nx release publish without them)`,
    );
    expect(rehearsal.gitea.releases().filter((release) => !release.draft)).toEqual([]);
    expect(await remoteTags()).toBe('');

    const finished = await rehearsal.nx(['release', 'publish']);
    expect(finished.exitCode).toBe(0);
    expect(await remoteTags()).toBe('v1.0.0');
    expect(rehearsal.gitea.releases().map((release) => [release.tagName, release.draft])).toEqual([['v1.0.0', false]]);
  }, 300_000);
});
