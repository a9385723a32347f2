// Benchmark: package-release's reproducible tarball against `tar czf` of the same files, in one run.
// The workspace is the real docker/ runtime files plus ~9 MB of docs assets (the seed's release size),
// half text, half incompressible. Prints a table and, on the last line, the ratio of medians
// (package-release time / tar czf time; lower is better).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const workspaceRoot = fileURLToPath(new URL('../..', import.meta.url));
const iterations = Number(process.env.BENCH_ITERATIONS ?? 11);

async function loadBundleLibrary() {
  const outfile = join(workspaceRoot, 'tmp/bench-package/release-bundle.mjs');
  await build({
    entryPoints: [join(workspaceRoot, 'libs/bundle/src/index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    // The libraries load some packages with require() (lazily, e.g. ajv), which an ES module bundle lacks.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return import(pathToFileURL(outfile).href);
}

function benchWorkspace() {
  const root = mkdtempSync(join(tmpdir(), 'cm-bench-package-'));
  cpSync(join(workspaceRoot, 'docker'), join(root, 'docker'), { recursive: true, filter: (path) => !path.includes('/tests') && !path.endsWith('/.env') });
  cpSync(join(workspaceRoot, 'apps/nginx/templates'), join(root, 'apps/nginx/templates'), { recursive: true });
  const assets = join(root, 'docker/mkdocs/docs/assets');
  mkdirSync(assets, { recursive: true });
  const paragraph = 'Changemaker Lite keeps campaigns running on infrastructure the organisers control. ';
  for (let i = 0; i < 60; i++) writeFileSync(join(assets, `page-${i}.md`), `# Page ${i}\n\n${paragraph.repeat(900)}\n`);
  for (let i = 0; i < 12; i++) writeFileSync(join(assets, `image-${i}.png`), randomBytes(380 * 1024));
  return root;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(fn) {
  const started = process.hrtime.bigint();
  return Promise.resolve(fn()).then(() => Number(process.hrtime.bigint() - started) / 1e6);
}

const library = await loadBundleLibrary();
const options = JSON.parse(execFileSync('node', ['-p', `JSON.stringify(require('./docker/project.json').targets['package-release'].options)`], { cwd: workspaceRoot, encoding: 'utf8' }));
const root = benchWorkspace();
const out = join(root, 'out');
try {
  const request = {
    workspaceRoot: root,
    tag: 'v1.2.3',
    fileList: { sourceRoot: options.sourceRoot, bundleRoot: options.bundleRoot, sources: options.sources, renames: options.renames, emptyDirectories: options.emptyDirectories },
    composeFile: options.composeFile,
    mirrorManifest: options.mirrorManifest,
    serviceNames: ['admin', 'api', 'media-api', 'nginx'],
    env: { SOURCE_DATE_EPOCH: '1700000000' },
  };
  const plan = await library.planRelease(request);
  const relativeFiles = plan.entries.filter((entry) => entry.type === 'file' && entry.path !== `${options.bundleRoot}/VERSION`).map((entry) => entry.path.slice(options.bundleRoot.length + 1));
  const sourceOf = Object.fromEntries(Object.entries(options.renames).map(([source, renamed]) => [renamed, source]));
  const sourceFiles = relativeFiles.map((path) => sourceOf[path] ?? path);
  const totalBytes = plan.entries.reduce((sum, entry) => sum + (entry.type === 'file' ? entry.content.length : 0), 0);

  const ours = [];
  const peer = [];
  let oursSize = 0;
  let peerSize = 0;
  // The first round warms both up (JIT, page cache) and is not counted.
  for (let i = 0; i <= iterations; i++) {
    if (i === 1) ours.length = peer.length = 0;
    ours.push(await time(async () => {
      const artifacts = await library.buildReleaseArtifacts(await library.planRelease(request));
      await library.writeReleaseArtifacts(artifacts, join(out, 'ours'));
      oursSize = artifacts.tarball.length;
    }));
    const target = join(out, 'tar', 'release.tar.gz');
    mkdirSync(join(out, 'tar'), { recursive: true });
    peer.push(await time(() => execFileSync('tar', ['czf', target, '-C', join(root, 'docker'), ...sourceFiles], { stdio: 'ignore' })));
    peerSize = statSync(target).size;
  }
  const ratio = median(ours) / median(peer);
  console.log(`files: ${sourceFiles.length}, ${(totalBytes / 1024 / 1024).toFixed(2)} MiB uncompressed, ${iterations} iterations each`);
  console.log(`package-release (plan + tarball + checksums + manifest, written): median ${median(ours).toFixed(1)} ms, tarball ${(oursSize / 1024 / 1024).toFixed(2)} MiB`);
  console.log(`tar czf (same files):                                        median ${median(peer).toFixed(1)} ms, tarball ${(peerSize / 1024 / 1024).toFixed(2)} MiB`);
  console.log(`ratio package-release / tar czf: ${ratio.toFixed(2)}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
