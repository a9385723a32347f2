import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createThrowawayWorkspace, runNx, type ThrowawayWorkspace } from '@changemaker/testing';

const loopback = { GITEA_URL: 'http://127.0.0.1:9', GITEA_REGISTRY: '127.0.0.1:9/admin' };
const imageExecutor = './tools/release-kit/executors:docker-build-push';

/** What a team writes in nx.json, and what Nx then does with it. */
describe("the plugin's options in a workspace's nx.json", () => {
  let workspace: ThrowawayWorkspace;
  let nxJson: string;

  beforeAll(async () => {
    workspace = await createThrowawayWorkspace(join(__dirname, '../../../..'));
    nxJson = await readFile(join(workspace.root, 'nx.json'), 'utf8');
  }, 120_000);
  afterAll(() => workspace?.remove());

  async function writeNxJson(edit: (config: { plugins: Array<{ options: Record<string, unknown> }>; targetDefaults: Record<string, unknown> }) => void): Promise<void> {
    const config = JSON.parse(nxJson);
    edit(config);
    await writeFile(join(workspace.root, 'nx.json'), `${JSON.stringify(config, null, 2)}\n`);
  }

  it('stop the image tasks and nx release at an option the plugin does not take, with one line saying where an image option goes, before anything runs', async () => {
    await writeNxJson((config) => {
      config.plugins[0]!.options['platforms'] = ['linux/amd64', 'linux/arm64'];
    });
    const refusal = `nx.json's options for the @changemaker/release-kit plugin have "platforms", which is none of its own (buildTargetName, pushTargetName, registry, imageName, tags, engine, cacheRepository, onDemandTag): correct or remove it; an option of the image targets (platforms, buildArgs, …) goes in nx.json's targetDefaults["${imageExecutor}"].options, which docker-build, docker-push and nx-release-publish all take`;
    const images = await runNx(workspace.root, ['run-many', '-t', 'docker-push', '--dry-run', '--outputStyle=stream'], loopback);
    expect(images.exitCode).not.toBe(0);
    for (const project of ['admin', 'api', 'media-api', 'nginx']) expect(images.all).toContain(`${project}: nothing was run: ${refusal}`);
    expect(images.all).not.toContain('dry run:');
    const release = await runNx(workspace.root, ['release', '1.0.0', '--dry-run'], loopback);
    expect(release.exitCode).not.toBe(0);
    expect(release.all).toContain(`nothing was written: ${refusal}`);
    expect(release.all).not.toContain('New version');
  }, 240_000);

  it('give an image option set where that line says to every image target: docker-build, docker-push and nx-release-publish', async () => {
    await writeNxJson((config) => {
      config.targetDefaults[imageExecutor] = { options: { platforms: ['linux/amd64', 'linux/arm64'] } };
    });
    const run = await runNx(workspace.root, ['show', 'project', 'api', '--json'], loopback);
    expect(run.exitCode).toBe(0);
    const targets = JSON.parse(run.stdout).targets as Record<string, { options: Record<string, unknown> }>;
    for (const name of ['docker-build', 'docker-push', 'nx-release-publish']) {
      expect({ name, platforms: targets[name]!.options['platforms'] }).toEqual({ name, platforms: ['linux/amd64', 'linux/arm64'] });
    }
    expect(targets['nx-release-publish']!.options['tags']).toEqual(['{sha}', 'latest', 'v{version}']);
  }, 120_000);
});
