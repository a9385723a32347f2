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
    const temporary = process.env['TMPDIR'];
    const scratch = await mkdtemp(join(tmpdir(), 'cm-failed-copy-'));
    process.env['TMPDIR'] = join(scratch, 'tmp');
    try {
      await mkdir(process.env['TMPDIR']);
      // Not a git repository: git ls-files refuses it, as git refuses a repository another user owns.
      await expect(createThrowawayWorkspace(scratch)).rejects.toThrow(/not a git repository/);
      expect(await readdir(join(scratch, 'tmp'))).toEqual([]);
    } finally {
      if (temporary === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = temporary;
      await rm(scratch, { recursive: true, force: true });
    }
  });
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
