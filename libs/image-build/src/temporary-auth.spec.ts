import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';

const workspaceRoot = resolve(__dirname, '../../..');

/** A process holding a push's login, as an image task does during its build and push: it prints the directory, then waits. */
const holdingALogin = `
  const { writeFileSync } = require('node:fs');
  const { join } = require('node:path');
  const { withTemporaryAuthDirectory } = require('./libs/image-build/src/temporary-auth.ts');
  withTemporaryAuthDirectory(async (directory) => {
    writeFileSync(join(directory, 'auth.json'), '{"auths":{"registry.example":{"auth":"c2VjcmV0"}}}');
    process.stdout.write(directory + '\\n');
    await new Promise((resolve) => setTimeout(resolve, 60_000));
  });
`;

describe('the temporary directory of a push login', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-temporary-auth-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** A process holding a login in a directory under `dir`, and that directory once it is made. */
  async function startHolder(): Promise<{ holder: ResultPromise; directory: string }> {
    const holder = execa(process.execPath, ['-r', '@swc-node/register', '-e', holdingALogin], { cwd: workspaceRoot, env: { TMPDIR: dir }, reject: false });
    const directory = await new Promise<string>((resolve) => holder.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
    return { holder, directory };
  }

  it("left by a push killed with SIGKILL (which no process can clean up after) is removed by the next push, and a running push's is kept", async () => {
    const killed = await startHolder();
    killed.holder.kill('SIGKILL');
    await killed.holder;
    expect(existsSync(join(killed.directory, 'auth.json'))).toBe(true);
    const running = await startHolder();
    const next = await startHolder();
    try {
      expect(existsSync(killed.directory)).toBe(false);
      expect(existsSync(join(running.directory, 'auth.json'))).toBe(true);
    } finally {
      running.holder.kill('SIGTERM');
      next.holder.kill('SIGTERM');
      await Promise.all([running.holder, next.holder]);
    }
    expect((await readdir(dir)).filter((name) => name.startsWith('release-kit-auth-'))).toEqual([]);
  }, 30_000);

  it.each(['SIGINT', 'SIGTERM'] as const)('is removed when %s stops the process mid-push, which then ends by that signal', async (signal) => {
    const { holder, directory } = await startHolder();
    expect(existsSync(join(directory, 'auth.json'))).toBe(true);
    holder.kill(signal);
    const stopped = await holder;
    expect(stopped.signal).toBe(signal);
    expect((await readdir(dir)).filter((name) => name.startsWith('release-kit-auth-'))).toEqual([]);
  }, 30_000);
});
