import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { startReleaseRehearsal, type ReleaseRehearsal } from '../../../../demo/release-rehearsal';

/**
 * A team whose product project is not called `docker`: its project.json names it `stack`, and
 * nx.json's release names that. Every command a release's lines advise runs on `stack`, and each,
 * run as it is printed, does what the line says.
 */
describe('nx release of a product project named otherwise', () => {
  let rehearsal: ReleaseRehearsal;

  beforeAll(async () => {
    rehearsal = await startReleaseRehearsal();
    const root = rehearsal.workspace.root;
    await editJson(join(root, 'docker/project.json'), (project) => ({ ...project, name: 'stack' }));
    await editJson(join(root, 'nx.json'), (nxJson) => ({ ...nxJson, release: { ...(nxJson['release'] as object), projects: ['stack'] } }));
    await rehearsal.workspace.commitAll('chore: the product project is called stack');
    await rehearsal.workspace.git('push', '-q', 'origin', 'main');
  }, 300_000);

  afterAll(() => rehearsal?.stop());

  afterEach(() => {
    expect(rehearsal.gitea.violations()).toEqual([]);
  });

  const remoteTags = async () => (await execa('git', ['-C', rehearsal.remote, 'tag', '--list'])).stdout;
  /** The `nx run project:target` a line advises after `lead`, as nx's arguments. */
  const advisedRun = (output: string, lead: string) => {
    const advised = new RegExp(`${lead} npx nx run ([\\w-]+:[\\w-]+)`).exec(output);
    expect(advised).not.toBeNull();
    return ['run', advised![1]!];
  };

  it('an unmirrored image stops the release naming stack:mirror-images, the line after it names stack:abandon-release, and both commands work as printed', async () => {
    const failed = await rehearsal.nx(['release', '1.0.0', '--yes']);
    expect(failed.exitCode).not.toBe(0);
    expect(failed.all).not.toContain('nx run docker:');
    const mirror = advisedRun(String(failed.all), 'mirror it:');
    expect(mirror).toEqual(['run', 'stack:mirror-images']);
    const abandon = advisedRun(String(failed.all), 'abandon with');
    expect(abandon).toEqual(['run', 'stack:abandon-release']);

    const next = await rehearsal.nx(['release', '1.0.1', '--yes']);
    expect(next.exitCode).not.toBe(0);
    expect(advisedRun(String(next.all), 'or undo it with')).toEqual(abandon);

    const abandoned = await rehearsal.nx(abandon);
    expect(abandoned.exitCode).toBe(0);
    expect(await rehearsal.workspace.git('tag', '--list')).toBe('');
    expect(rehearsal.gitea.releases()).toEqual([]);

    // The stand-ins for Docker Hub are the rehearsal's own list; the command is the one advised.
    expect((await rehearsal.nx([...mirror, `--manifest=${rehearsal.mirrorList}`])).exitCode).toBe(0);
    const released = await rehearsal.nx(['release', '1.0.0', '--yes']);
    expect(released.exitCode).toBe(0);
    expect(await remoteTags()).toBe('v1.0.0');
    expect(rehearsal.gitea.releases().map((release) => [release.tagName, release.draft])).toEqual([['v1.0.0', false]]);
  }, 600_000);
});

async function editJson(path: string, edit: (json: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  await writeFile(path, `${JSON.stringify(edit(JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>), null, 2)}\n`);
}
