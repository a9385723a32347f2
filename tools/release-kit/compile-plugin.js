'use strict';
/**
 * Compiles the plugin's entry points to plain JavaScript, one bundle each, into the directory given
 * on the command line: `node compile-plugin.js <directory>`. load-compiled.js runs it when the
 * sources changed, in a process of its own because esbuild takes plugins only in an asynchronous
 * build, and Nx loads an entry point synchronously.
 */
const { join, resolve } = require('node:path');

const workspaceRoot = resolve(__dirname, '../..');

/** Each entry's name (its compiled file, which the loaders next to this file name) and its TypeScript source. */
const entrySources = {
  plugin: 'src/index.ts',
  'version-actions': 'src/release/version-file-actions.ts',
  'changelog-renderer': 'src/release/gitea-changelog-renderer.ts',
  'abandon-release': 'src/executors/abandon-release/executor.ts',
  'docker-build-push': 'src/executors/docker-build-push/executor.ts',
  'mirror-images': 'src/executors/mirror-images/executor.ts',
  'package-release': 'src/executors/package-release/executor.ts',
  'publish-release': 'src/executors/publish-release/executor.ts',
  'release-product': 'src/executors/release-product/executor.ts',
};

/**
 * An npm package's code runs when it is loaded, so esbuild keeps every package a bundled file
 * imports, used or not: an image task would load `yaml` for the compose reader its release library
 * holds but it never calls. The packages this plugin bundles do nothing on load but define what
 * they export, so an import nothing uses is left out.
 */
const packagesWithoutSideEffects = {
  name: 'packages-without-side-effects',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^[^./]/ }, async ({ path, kind, resolveDir, pluginData }) => {
      if (pluginData?.resolving || path.startsWith('node:') || path.startsWith('@changemaker/')) return undefined;
      const resolved = await esbuild.resolve(path, { kind, resolveDir, pluginData: { resolving: true } });
      if (resolved.errors.length > 0 || resolved.external) return undefined;
      return { path: resolved.path, sideEffects: false };
    });
  },
};

async function compile(outdir) {
  const { build } = requireEsbuild();
  await build({
    entryPoints: Object.fromEntries(Object.entries(entrySources).map(([name, source]) => [name, join(__dirname, source)])),
    outdir,
    absWorkingDir: workspaceRoot,
    tsconfig: join(workspaceRoot, 'tsconfig.base.json'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Nx and its devkit are the host's: one copy, the one running the command.
    external: ['nx', 'nx/*', '@nx/*'],
    // jsonc-parser's main build is UMD, whose requires a bundler cannot follow.
    mainFields: ['module', 'main'],
    plugins: [packagesWithoutSideEffects],
    // Node reads the maps only under --enable-source-maps; with the sources in them, any checkout can.
    sourcemap: 'linked',
    sourcesContent: true,
    logLevel: 'silent',
  });
}

function requireEsbuild() {
  try {
    return require('esbuild');
  } catch (error) {
    if (error.code !== 'MODULE_NOT_FOUND') throw error;
    throw new Error('esbuild is not installed: run npm ci (it is a devDependency, which npm ci --omit=dev leaves out)');
  }
}

/** What stopped the compilation and what to do, in one line: esbuild's first error and where it is, for a source. */
function oneLineReasonOf(error) {
  const [first] = error.errors ?? [];
  if (!first) return String(error.message).split('\n')[0];
  const where = first.location ? ` (${first.location.file}:${first.location.line})` : '';
  return `${first.text}${where}; fix the source and run the command again`;
}

if (require.main === module) {
  compile(process.argv[2]).catch((error) => {
    process.stderr.write(`${oneLineReasonOf(error)}\n`);
    process.exitCode = 1;
  });
}

module.exports = { entrySources };
