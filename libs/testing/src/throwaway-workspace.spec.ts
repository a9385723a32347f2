import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createThrowawayWorkspace } from './throwaway-workspace';

describe('createThrowawayWorkspace', () => {
  it('commits the workspace but not its node_modules link, which a checkout in the clone would otherwise put back over the real one', async () => {
    const workspace = await createThrowawayWorkspace(join(__dirname, '../../..'));
    try {
      expect(await workspace.git('ls-files', '--', 'node_modules')).toBe('');
      expect(await workspace.git('ls-files', '--', 'nx.json')).toBe('nx.json');
      expect(await workspace.git('status', '--porcelain')).toBe('');
    } finally {
      await workspace.remove();
    }
  }, 60_000);
});

describe('createThrowawayWorkspace that fails', () => {
  it('leaves no copy in the temp directory', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'cm-failed-copy-'));
    try {
      await mkdir(join(scratch, 'tmp'));
      // In a process of its own, whose TMPDIR is this test's: Jest gives a test a copy of process.env, which os.tmpdir() does not read.
      // The source is not a git repository: git ls-files refuses it, as git refuses a repository another user owns.
      const copy = await execa(process.execPath, ['-r', '@swc-node/register', '-e', `require('./libs/testing/src/throwaway-workspace').createThrowawayWorkspace(${JSON.stringify(scratch)})`], {
        cwd: join(__dirname, '../../..'),
        env: { TMPDIR: join(scratch, 'tmp') },
        reject: false,
      });
      expect(copy.stderr).toMatch(/not a git repository/);
      expect((await readdir(join(scratch, 'tmp'))).filter((name) => name.startsWith('cm-'))).toEqual([]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('nx in a throwaway workspace, run by a test', () => {
  it('keeps its cache and graph database inside the workspace: nothing is left under ~/.nx once the workspace is removed', async () => {
    const home = await mkdtemp(join(tmpdir(), 'cm-home-'));
    const workspace = await createThrowawayWorkspace(join(__dirname, '../../..'));
    try {
      // A private HOME makes ~/.nx this test's own; the rest of the environment is what every test's nx inherits.
      const shown = await execa(process.execPath, [join(workspace.root, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects'], { cwd: workspace.root, env: { HOME: home }, reject: false, all: true });
      expect(shown.exitCode).toBe(0);
      expect(await readdir(join(home, '.nx')).catch(() => [])).toEqual([]);
    } finally {
      await workspace.remove();
      await rm(home, { recursive: true, force: true });
    }
  }, 120_000);
});
