import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flushChanges, FsTree } from 'nx/src/generators/tree';
import VersionFileActions from './version-file-actions';

describe('the VERSION file version actions', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cm-version-actions-'));
    await mkdir(join(root, 'docker'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const actionsFor = () =>
    new VersionFileActions(
      { name: '__default__', projects: ['docker'] } as never,
      { name: 'docker', type: 'app', data: { root: 'docker' } } as never,
      {} as never,
    );

  it('reads the current version from docker/VERSION and writes the new one there as the release tag', async () => {
    await writeFile(join(root, 'docker/VERSION'), 'v1.4.2\n');
    const tree = new FsTree(root, false);
    const actions = actionsFor();
    expect(await actions.readCurrentVersionFromSourceManifest(tree)).toEqual({ currentVersion: '1.4.2', manifestPath: 'docker/VERSION' });
    expect(await actions.updateProjectVersion(tree, '1.5.0')).toEqual(['✍️  New version 1.5.0 written to docker/VERSION']);
    flushChanges(root, tree.listChanges());
    expect(await readFile(join(root, 'docker/VERSION'), 'utf8')).toBe('v1.5.0\n');
  });

  it('says what to write when the file holds no version, and reports a missing file as none', async () => {
    const tree = new FsTree(root, false);
    expect(await actionsFor().readCurrentVersionFromSourceManifest(tree)).toBeNull();
    await writeFile(join(root, 'docker/VERSION'), 'latest\n');
    await expect(actionsFor().readCurrentVersionFromSourceManifest(new FsTree(root, false))).rejects.toThrow(
      'docker/VERSION holds "latest", not a version: write the last released tag there (v0.0.0 before the first release).',
    );
  });
});
