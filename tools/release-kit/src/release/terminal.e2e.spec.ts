import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { addBareOrigin, createThrowawayWorkspace, releaseManagerIdentity, type ThrowawayWorkspace } from '@changemaker/testing';

const workspaceRoot = resolve(__dirname, '../../../..');

/**
 * nx release typed in a terminal, as a release manager does on a fresh clone: stdin and stdout a
 * terminal (util-linux `script` gives the command a pseudo-terminal) and no CI variable. The tests
 * elsewhere run nx as CI does, where Nx asks nothing.
 */
describe('nx release in a terminal', () => {
  let workspace: ThrowawayWorkspace;
  let scratch: string;

  beforeAll(async () => {
    [workspace, scratch] = await Promise.all([createThrowawayWorkspace(workspaceRoot), mkdtemp(join(tmpdir(), 'cm-terminal-'))]);
    await addBareOrigin(workspace, join(scratch, 'origin.git'));
  }, 120_000);

  afterAll(async () => {
    await workspace?.remove();
    await rm(scratch, { recursive: true, force: true });
  });

  /** `nx …` run by a shell in a pseudo-terminal; a prompt nobody answers is stopped after a minute. */
  const nxInTerminal = (args: string) =>
    execa('script', ['--quiet', '--return', '--command', `${process.execPath} node_modules/nx/dist/bin/nx.js ${args}`, '/dev/null'], {
      cwd: workspace.root,
      reject: false,
      all: true,
      stdin: 'ignore',
      timeout: 60_000,
      extendEnv: false,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: process.env['HOME'] ?? tmpdir(),
        SHELL: '/bin/sh',
        TERM: 'xterm-256color',
        CI: 'false',
        NX_DAEMON: 'false',
        NX_NO_CLOUD: 'true',
        NX_CACHE_DIRECTORY: '.nx/cache',
        GITEA_URL: 'http://127.0.0.1:9',
        GITEA_REPO: 'admin/changemaker.lite',
        GITEA_REGISTRY: '127.0.0.1:9/admin',
        ...releaseManagerIdentity,
      },
    });

  it("asks nothing (Nx's usage-data question would wait for an answer, then write it into nx.json, which the release refuses as an uncommitted change) and leaves the checkout as committed", async () => {
    const nxJsonBefore = await readFile(join(workspace.root, 'nx.json'), 'utf8');

    const result = await nxInTerminal('release 1.0.0 --dry-run --skip-publish');

    expect({ exitCode: result.exitCode, timedOut: result.timedOut, output: result.all }).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.all).not.toContain('usage data');
    expect(result.all).toContain('Previewing an entry in CHANGELOG.md for');
    expect(await readFile(join(workspace.root, 'nx.json'), 'utf8')).toBe(nxJsonBefore);
    expect(await workspace.git('status', '--porcelain', '--', '.', ':!.nx')).toBe('');
  }, 120_000);
});
