import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

/**
 * load-compiled.js and compile-plugin.js, copied into a workspace of their own with small entry
 * sources and a node_modules of its own (esbuild linked in), so that compiling, sharing and pruning
 * act on a cache no other test or command uses.
 */
const pluginRoot = __dirname;
const workspaceNodeModules = join(__dirname, '../../node_modules');
// The entries the compiler builds (plain JavaScript, so typed here).
const { entrySources } = require('./compile-plugin.js') as { entrySources: Record<string, string> };

describe('the compiled plugin (load-compiled.js)', () => {
  let root: string;
  const cache = () => join(root, 'node_modules/.cache/changemaker-release-kit');
  const compilations = () => (existsSync(cache()) ? readdirSync(cache()).sort() : []);
  const compilerRuns = () => (existsSync(join(root, 'compiler-runs')) ? readFileSync(join(root, 'compiler-runs'), 'utf8').split('\n').filter(Boolean).length : 0);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'load-compiled-'));
    await mkdir(join(root, 'tools/release-kit'), { recursive: true });
    await copyFile(join(pluginRoot, 'load-compiled.js'), join(root, 'tools/release-kit/load-compiled.js'));
    // The copied compiler notes each run, so a test can tell a compilation reused from one made again.
    const compiler = readFileSync(join(pluginRoot, 'compile-plugin.js'), 'utf8');
    await writeFile(join(root, 'tools/release-kit/compile-plugin.js'), `require('node:fs').appendFileSync(require('node:path').join(__dirname, '../../compiler-runs'), 'run\\n');\n${compiler}`);
    await writeFile(join(root, 'tsconfig.base.json'), JSON.stringify({ compilerOptions: { baseUrl: '.', paths: { '@changemaker/greeting': ['libs/greeting/src/index.ts'] } } }));
    await writeFile(join(root, 'package-lock.json'), '{}');
    await writeSource('libs/greeting/src/index.ts', "export const greeting = 'hello';\n");
    for (const [name, source] of Object.entries(entrySources)) {
      await writeSource(join('tools/release-kit', source), `import { greeting } from '@changemaker/greeting';\nexport default function entry(): string {\n  return \`${name} says \${greeting}\`;\n}\n`);
    }
    await mkdir(join(root, 'node_modules'));
    await symlink(join(workspaceNodeModules, 'esbuild'), join(root, 'node_modules/esbuild'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  async function writeSource(path: string, content: string): Promise<void> {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }

  /** A process that loads one entry, as Nx does, and prints what it returns. */
  function load(entry: string) {
    const script = `process.stdout.write(require(${JSON.stringify(join(root, 'tools/release-kit/load-compiled.js'))}).compiledEntry(${JSON.stringify(entry)}).default())`;
    return execa(process.execPath, ['-e', script], { reject: false });
  }

  it('compiles every entry on first use, into node_modules/.cache, and a later process loads that compilation without compiling', async () => {
    expect((await load('docker-build-push')).stdout).toBe('docker-build-push says hello');
    expect(compilations()).toHaveLength(1);
    expect(readdirSync(join(cache(), compilations()[0]!)).filter((file) => file.endsWith('.js')).sort()).toEqual(Object.keys(entrySources).map((name) => `${name}.js`).sort());

    expect((await load('release-product')).stdout).toBe('release-product says hello');
    expect(compilerRuns()).toBe(1);
    expect(compilations()).toHaveLength(1);
  });

  it('compiles again after an edit to a library an entry imports, keeping the earlier compilation for a checkout still on it', async () => {
    await load('plugin');
    await writeSource('libs/greeting/src/index.ts', "export const greeting = 'good morning';\n");
    expect((await load('plugin')).stdout).toBe('plugin says good morning');
    expect(compilerRuns()).toBe(2);
    expect(compilations()).toHaveLength(2);
  });

  it('leaves out a test file: editing one compiles nothing', async () => {
    await load('plugin');
    await writeSource('libs/greeting/src/index.spec.ts', "it('greets', () => undefined);\n");
    await load('plugin');
    expect(compilerRuns()).toBe(1);
  });

  it('refuses a source that does not compile in one line naming where, and leaves no compilation behind', async () => {
    await writeSource('tools/release-kit/src/executors/docker-build-push/executor.ts', 'export default function entry( {\n');
    const run = await load('docker-build-push');
    expect(run.exitCode).not.toBe(0);
    const message = /PluginCompileError: (.*)/.exec(run.stderr)?.[1];
    expect(message).toMatch(/^tools\/release-kit could not be compiled: .+ \(tools\/release-kit\/src\/executors\/docker-build-push\/executor\.ts:\d+\); fix the source and run the command again$/);
    expect(compilations()).toEqual([]);
  });

  it('gives processes that start together one whole compilation, and leaves none half-written', async () => {
    const runs = await Promise.all(['plugin', 'docker-build-push', 'docker-build-push', 'release-product'].map((entry) => load(entry)));
    expect(runs.map((run) => run.stdout)).toEqual(['plugin says hello', 'docker-build-push says hello', 'docker-build-push says hello', 'release-product says hello']);
    expect(compilations()).toHaveLength(1);
  });

  it('removes compilations beyond the last four used once unused for an hour, and keeps any used within it', async () => {
    const daysAgo = (days: number) => new Date(Date.now() - days * 24 * 60 * 60 * 1000);
    await mkdir(cache(), { recursive: true });
    for (const [name, used] of [['old-1', daysAgo(1)], ['old-2', daysAgo(2)], ['old-3', daysAgo(3)], ['old-4', daysAgo(4)], ['old-5', daysAgo(5)], ['partial.123.partial', daysAgo(6)]] as const) {
      await mkdir(join(cache(), name));
      await utimes(join(cache(), name), used, used);
    }
    await mkdir(join(cache(), 'in-use-now'));
    await load('plugin');
    expect(compilations().filter((name) => name.startsWith('old') || name.startsWith('in-use') || name.includes('partial'))).toEqual(['in-use-now', 'old-1', 'old-2']);
    expect(compilations()).toHaveLength(4);
  });

  it('says in one line that esbuild is missing, and how to install it', async () => {
    await rm(join(root, 'node_modules/esbuild'));
    const run = await load('plugin');
    expect(run.exitCode).not.toBe(0);
    expect(/PluginCompileError: (.*)/.exec(run.stderr)?.[1]).toBe(
      'tools/release-kit could not be compiled: esbuild is not installed: run npm ci (it is a devDependency, which npm ci --omit=dev leaves out)',
    );
  });

  it('says in one line that the cache cannot be written, and what to do', async () => {
    await mkdir(join(root, 'node_modules/.cache'), { recursive: true });
    await writeFile(cache(), 'a file where the cache directory goes');
    const run = await load('plugin');
    expect(run.exitCode).not.toBe(0);
    expect(/PluginCompileError: (.*)/.exec(run.stderr)?.[1]).toBe('could not write the compiled release-kit plugin to node_modules/.cache/changemaker-release-kit (EEXIST): make node_modules writable and run the command again');
  });
});
