import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';

/**
 * `npm run demo` stopped part-way, by Ctrl-C (SIGINT to its process group, as a terminal sends it)
 * or by a SIGTERM to the demo's process alone (a supervisor, a cancelled CI step that signals the
 * process it started): it stops what it started, removes its temp directories, says so in one line
 * and exits 128 + the signal's number. Each run gets a temp directory of its own (TMPDIR), so what
 * it leaves is told apart from other runs on the machine.
 */
describe('npm run demo, interrupted', () => {
  const workspaceRoot = join(__dirname, '../..');
  let scratch: string;

  beforeEach(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cm-demo-interrupted-'));
  });

  afterEach(async () => {
    // A demo that failed to stop its registries must not outlive the test either.
    for (const left of await leftProcesses()) process.kill(left.pid, 'SIGKILL');
    await rm(scratch, { recursive: true, force: true, maxRetries: 5 });
  });

  const startDemo = () =>
    execa(process.execPath, ['-r', '@swc-node/register', 'tools/demo/run.ts'], {
      cwd: workspaceRoot,
      env: { TMPDIR: scratch, GITEA_URL: 'http://127.0.0.1:9', GITEA_REGISTRY: '127.0.0.1:9/x' },
      detached: true,
      stdin: 'ignore',
      reject: false,
      all: true,
      buffer: true,
    }) as ResultPromise<{ all: true; reject: false }>;

  const waitForLine = (demo: ResultPromise, text: string) =>
    new Promise<void>((resolve, reject) => {
      let seen = '';
      demo.all?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes(text)) resolve();
      });
      void demo.then(() => reject(new Error(`the demo ended before printing ${JSON.stringify(text)}:\n${seen}`)));
    });

  /** The demo's own temp directories (cm-…); the engines' scratch files and swc's compile cache are not its to remove. */
  const leftDirectories = async () => (await readdir(scratch)).filter((name) => name.startsWith('cm-'));

  /** Processes still running whose command line names a path under this run's TMPDIR: a registry, buildah, nx. */
  const leftProcesses = async () => {
    const left: Array<{ pid: number; commandLine: string }> = [];
    for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
      const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (commandLine.includes(scratch)) left.push({ pid: Number(pid), commandLine: commandLine.replaceAll('\0', ' ') });
    }
    return left;
  };

  it('Ctrl-C while nx release builds: one line, exit 130, nothing left running or in the temp directory', async () => {
    const demo = startDemo();
    await waitForLine(demo, '== nx release 1.0.0');
    process.kill(-demo.pid!, 'SIGINT');
    const result = await demo;
    expect(result.exitCode).toBe(130);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^demo interrupted by SIGINT: stopped its registries, sandbox and Gitea test server and removed its temp directories$/);
    expect(await leftDirectories()).toEqual([]);
    expect(await leftProcesses()).toEqual([]);
  }, 120_000);

  it('SIGTERM to the demo process alone while nx runs: it stops nx and the registries itself, exit 143', async () => {
    const demo = startDemo();
    await waitForLine(demo, '== mirror the third-party images');
    demo.kill('SIGTERM');
    const result = await demo;
    expect(result.exitCode).toBe(143);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^demo interrupted by SIGTERM: /);
    expect(await leftDirectories()).toEqual([]);
    expect(await leftProcesses()).toEqual([]);
  }, 120_000);
});
