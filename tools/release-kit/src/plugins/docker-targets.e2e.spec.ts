import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createThrowawayWorkspace, runNx, type ThrowawayWorkspace } from '@changemaker/testing';

/**
 * The image targets in a workspace where another plugin infers the build target, as Nx's own
 * plugins do from a vite or tsconfig file: docker-push must still run the build first.
 */
describe('docker-push after a build target another plugin infers', () => {
  let workspace: ThrowawayWorkspace;

  beforeAll(async () => {
    workspace = await createThrowawayWorkspace(join(__dirname, '../../../..'));
    const worker = join(workspace.root, 'apps/worker');
    await mkdir(worker, { recursive: true });
    await mkdir(join(workspace.root, 'tools/bundler-plugin'), { recursive: true });
    // A stand-in for a plugin such as @nx/vite/plugin: a build target for each bundler.json.
    await writeFile(
      join(workspace.root, 'tools/bundler-plugin/index.js'),
      [
        "const { dirname } = require('node:path');",
        "exports.createNodesV2 = ['**/bundler.json', (files) => files.map((file) => [file, { projects: { [dirname(file)]: { targets: { build: {",
        "  command: `mkdir -p dist/${dirname(file)} && cp ${dirname(file)}/main.js dist/${dirname(file)}/ && echo bundled by the inferred build`,",
        '  outputs: [`{workspaceRoot}/dist/${dirname(file)}`],',
        '} } } } }])];',
        '',
      ].join('\n'),
    );
    await writeFile(join(worker, 'bundler.json'), '{}\n');
    await writeFile(join(worker, 'main.js'), 'console.log("worker");\n');
    await writeFile(join(worker, 'Dockerfile'), 'FROM scratch AS production\nCOPY main.js /app/\n');
    await writeFile(join(worker, 'project.json'), JSON.stringify({ name: 'worker', targets: { 'docker-push': { options: { context: 'dist/apps/worker' } } } }));
    const nxJson = JSON.parse(await readFile(join(workspace.root, 'nx.json'), 'utf8'));
    nxJson.plugins.push('./tools/bundler-plugin/index.js');
    await writeFile(join(workspace.root, 'nx.json'), `${JSON.stringify(nxJson, null, 2)}\n`);
    await workspace.commitAll('a worker built by an inferred target');
  }, 120_000);
  afterAll(() => workspace?.remove());

  it('runs the inferred build before docker-push, so the image is made of this commit\'s build output', async () => {
    const run = await runNx(workspace.root, ['run', 'worker:docker-push', '--dry-run', '--outputStyle=stream'], { GITEA_URL: 'http://127.0.0.1:9', GITEA_REGISTRY: '127.0.0.1:9/admin' });
    expect(run.all).toContain('bundled by the inferred build');
    expect(run.all).toMatch(/dry run: .*changemaker-worker/);
    expect(run.exitCode).toBe(0);
  }, 120_000);
});
