'use strict';
/**
 * Loads one of the plugin's entry points (nx.json's plugin, version actions and changelog renderer,
 * and each executor) compiled to plain JavaScript, compiling them first when the sources changed.
 *
 * Why: Nx loads a local plugin written in TypeScript by registering a transpiler in every process
 * that touches it, and a task process reads the root tsconfig through the `typescript` compiler to
 * find a local package's entry; together about a quarter of a second of CPU in each task process,
 * which every release pays once per image and once for the product. An entry that is JavaScript,
 * and an executor collection that is no workspace project's package (executors/package.json; the
 * project's root has none), let Nx load both with a plain require.
 *
 * The compiled files are a cache, never a build step to remember: they are keyed by the content of
 * every source they could be built from (the plugin, the libraries, tsconfig.base.json's paths, the
 * lock file that pins the bundled packages and esbuild, and the two compiler files), so an edit is
 * compiled on the next run, and checkouts with the same sources share one compilation.
 */
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } = require('node:fs');
const { join, relative, resolve } = require('node:path');

const workspaceRoot = resolve(__dirname, '../..');
const cacheRoot = join(workspaceRoot, 'node_modules/.cache/changemaker-release-kit');
const compiler = join(__dirname, 'compile-plugin.js');
/** Compilations kept whatever their age (each is a few MB): the last ones used, by this checkout or others. */
const compilationsKept = 4;
/** Nor is one removed that a process used this recently: a running release may still load an entry from it. */
const recentUseMs = 60 * 60 * 1000;

class PluginCompileError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PluginCompileError';
  }
}

let compiledDirectory;

/** The exports of one entry point, compiled from the sources as they are now. */
function compiledEntry(name) {
  compiledDirectory ??= directoryCompiledFromCurrentSources();
  return require(join(compiledDirectory, `${name}.js`));
}

function directoryCompiledFromCurrentSources() {
  const directory = join(cacheRoot, sourcesFingerprint());
  // A compilation is renamed into place whole (compileInto), so a directory there is complete.
  if (existsSync(directory)) markUsed(directory);
  else compileInto(directory);
  return directory;
}

/** Its modification time is when a process last used it, which is what removeUnusedCompilations reads. */
function markUsed(directory) {
  try {
    const now = new Date();
    utimesSync(directory, now, now);
  } catch {
    // A read-only cache is still a cache: the mark only keeps it from being pruned.
  }
}

/** What the compiled files depend on: every source file's path and content, in a stable order. */
function sourcesFingerprint() {
  const hash = createHash('sha256');
  const add = (file) => hash.update(`${relative(workspaceRoot, file)}\0`).update(readFileSync(file)).update('\0');
  for (const file of sourceFilesUnder(join(__dirname, 'src'))) add(file);
  for (const library of readdirSync(join(workspaceRoot, 'libs'), { withFileTypes: true })) {
    if (library.isDirectory()) for (const file of sourceFilesUnder(join(workspaceRoot, 'libs', library.name, 'src'))) add(file);
  }
  for (const file of [join(workspaceRoot, 'tsconfig.base.json'), join(workspaceRoot, 'package-lock.json'), compiler, __filename]) add(file);
  return hash.digest('hex').slice(0, 16);
}

function sourceFilesUnder(directory) {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return sourceFilesUnder(path);
      return /\.(ts|json)$/.test(entry.name) && !entry.name.endsWith('.spec.ts') ? [path] : [];
    });
}

/**
 * Compiles into a directory of this process's own, then renames it into place: processes that
 * start together (Nx's task processes) may each compile, and each finds a whole compilation.
 */
function compileInto(directory) {
  const staging = `${directory}.${process.pid}.partial`;
  try {
    mkdirSync(cacheRoot, { recursive: true });
    rmSync(staging, { recursive: true, force: true });
  } catch (error) {
    throw new PluginCompileError(`could not write the compiled release-kit plugin to ${relative(workspaceRoot, cacheRoot)} (${error.code ?? error.message}): make node_modules writable and run the command again`);
  }
  const run = spawnSync(process.execPath, [compiler, staging], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (run.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    const reason = run.stderr.trim().split('\n')[0] || run.error?.message || `exit ${run.status ?? run.signal}`;
    throw new PluginCompileError(`tools/release-kit could not be compiled: ${reason}`);
  }
  try {
    renameSync(staging, directory);
  } catch {
    // Another process put the same compilation in place first.
    rmSync(staging, { recursive: true, force: true });
  }
  removeUnusedCompilations(directory);
}

function removeUnusedCompilations(current) {
  try {
    const unusedSince = Date.now() - recentUseMs;
    const compilations = readdirSync(cacheRoot)
      .map((name) => join(cacheRoot, name))
      .filter((path) => path !== current)
      .map((path) => ({ path, used: statSync(path).mtimeMs }))
      .sort((a, b) => b.used - a.used);
    for (const { path, used } of compilations.slice(compilationsKept - 1)) {
      if (used < unusedSince) rmSync(path, { recursive: true, force: true });
    }
  } catch {
    // Housekeeping: a compilation another process removed first is already gone.
  }
}

module.exports = { compiledEntry, PluginCompileError };
