import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { createThrowawayWorkspace, startImageTestbed, type ImageTestbed, type ThrowawayWorkspace } from '@changemaker/testing';

const services = ['api', 'admin', 'media-api', 'nginx'] as const;
const workspaceRoot = join(__dirname, '../../../../..');

/**
 * The whole path a CI job takes: a committed workspace, a change, `nx affected -t docker-push`,
 * and the registry's own tag lists as the judge of what was pushed.
 */
describe('nx affected -t docker-push', () => {
  let testbed: ImageTestbed;
  let workspace: ThrowawayWorkspace;

  beforeAll(async () => {
    testbed = await startImageTestbed();
    workspace = await createThrowawayWorkspace(workspaceRoot);
  }, 300_000);
  afterAll(async () => {
    await workspace?.remove();
    await testbed?.stop();
  });

  const runTasks = (...args: string[]) => nx(...args, '--outputStyle=stream');

  async function nx(...args: string[]): Promise<string> {
    const result = await nxProcess(...args);
    if (result.exitCode !== 0) throw new Error(`nx ${args.join(' ')} failed:\n${result.all}`);
    return String(result.all);
  }

  function nxProcess(...args: string[]) {
    return execa('node', [join(workspace.root, 'node_modules/nx/dist/bin/nx.js'), ...args], {
      cwd: workspace.root,
      env: { ...testbed.nxEnv, CI: 'true' },
      all: true,
      reject: false,
    });
  }

  async function tagsOf(service: string): Promise<string[]> {
    const response = await fetch(`${testbed.registry.url}/v2/admin/changemaker-${service}/tags/list`);
    if (response.status === 404) return [];
    return ((await response.json()) as { tags: string[] }).tags;
  }

  async function servicesTagged(tag: string): Promise<string[]> {
    const tagged = await Promise.all(services.map(async (service) => ((await tagsOf(service)).includes(tag) ? [service] : [])));
    return tagged.flat().sort();
  }

  async function resultOf(service: string): Promise<{ built: boolean; references: string[] }> {
    return JSON.parse(await readFile(join(workspace.root, 'dist/images', `${service}.json`), 'utf8'));
  }

  it('shows docker-build and docker-push on every service, run by the release-kit executor', async () => {
    for (const service of services) {
      const project = JSON.parse(await nx('show', 'project', service, '--json')) as { targets: Record<string, { executor: string }> };
      expect(project.targets['docker-build'].executor).toBe('./tools/release-kit/executors:docker-build-push');
      expect(project.targets['docker-push'].executor).toBe('./tools/release-kit/executors:docker-build-push');
    }
  });

  it('pushes every service on the first run, then only what each change affects', async () => {
    const first = await workspace.git('rev-parse', 'HEAD');
    const output = await runTasks('run-many', '-t', 'docker-push');
    expect(await servicesTagged(first)).toEqual([...services].sort());
    expect(output).toMatch(/code-server: skipped, an on-demand image/);
    expect(await tagsOf('code-server')).toEqual([]);
    expect(await servicesTagged('latest')).toEqual([...services].sort());

    await appendFile(join(workspace.root, 'apps/media-api/src/main.ts'), '\n// a change to media-api alone\nexport const changedForTest = "media-api";\n');
    const second = await workspace.commitAll('change media-api');
    await runTasks('affected', '-t', 'docker-push', '--base=HEAD~1', '--head=HEAD');
    expect(await servicesTagged(second)).toEqual(['media-api']);

    const healthSource = join(workspace.root, 'libs/service-health/src/index.ts');
    await appendFile(healthSource, '\nexport const changedForTest = "service-health";\n');
    const third = await workspace.commitAll('change the shared library');
    await runTasks('affected', '-t', 'docker-push', '--base=HEAD~1', '--head=HEAD');
    expect(await servicesTagged(third)).toEqual(['api', 'media-api']);
  });

  it('fails a bad option with one line that says what to do, and pushes nothing', async () => {
    const result = await nxProcess('run', 'api:docker-push', '--tags=broken-{commit}', '--outputStyle=stream');
    expect(result.exitCode).not.toBe(0);
    expect(String(result.all)).toMatch(/api: invalid tag pattern "broken-\{commit\}": unknown placeholder \{commit\}; known: \{sha\}/);
    expect(await tagsOf('api')).not.toContainEqual(expect.stringMatching(/^broken-/));
  });

  it('refuses to push a working tree with uncommitted changes to the image\'s files as the commit, and still builds it locally with docker-build', async () => {
    const styles = join(workspace.root, 'apps/admin/src/styles.css');
    const head = await workspace.git('rev-parse', 'HEAD');
    const tagsBefore = await tagsOf('admin');
    await appendFile(styles, '\n/* a local experiment */\nbody { outline: 1px solid red; }\n');
    try {
      const pushed = await nxProcess('run', 'admin:docker-push', '--outputStyle=stream');
      expect(pushed.exitCode).not.toBe(0);
      expect(String(pushed.all)).toContain("admin: not pushed: uncommitted changes in apps/admin/src/styles.css would be pushed as this commit's image; commit or stash them, or build a local image with docker-build");
      expect(String(pushed.all)).not.toMatch(/building with/);
      expect(await tagsOf('admin')).toEqual(tagsBefore);

      const built = await nxProcess('run', 'admin:docker-build', '--outputStyle=stream');
      expect({ exitCode: built.exitCode, all: built.all }).toEqual({ exitCode: 0, all: expect.stringMatching(/changemaker-admin \[.*\].*: built with \w+, not pushed/) });
      expect(await tagsOf('admin')).toEqual(tagsBefore);
    } finally {
      await workspace.git('checkout', '--', 'apps/admin/src/styles.css');
    }
    expect(await workspace.git('status', '--porcelain')).toBe('');
    expect(await workspace.git('rev-parse', 'HEAD')).toBe(head);
  });

  it('takes --cache-repository and --no-cache from the command line, and refuses a cache repository with a tag before building', async () => {
    const result = await nxProcess('run', 'api:docker-push', '--no-cache', '--no-registry-cache', '--cache-repository=ci/{projectName}-layers:latest', '--outputStyle=stream');
    expect(result.exitCode).not.toBe(0);
    expect(String(result.all)).toMatch(/api: invalid cache repository "ci\/api-layers:latest": it has a tag or digest/);
    expect(String(result.all)).not.toMatch(/building with/);
  });

  it('builds nothing on a run with an empty Nx cache when the registry has every image, and tags them all', async () => {
    const head = await workspace.git('rev-parse', 'HEAD');
    const output = await runTasks('run-many', '-t', 'docker-push', '--skip-nx-cache');
    for (const service of services) expect((await resultOf(service)).built).toBe(false);
    expect(output).not.toMatch(/building with/);
    expect(output.match(/tagged registry-side \(no build\)/g)).toHaveLength(services.length);
    expect(await servicesTagged(head)).toEqual([...services].sort());
  });

  // Last: the project it adds would be one more image for the runs above.
  it('shares the layer cache of a service with a dependency step through the registry, and --no-cache builds every step', async () => {
    const root = join(workspace.root, 'apps/heavy');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'project.json'), JSON.stringify({ name: 'heavy', projectType: 'application' }));
    await writeFile(join(root, 'package.json'), '{ "name": "heavy", "private": true }\n');
    await writeFile(join(root, 'main.js'), 'console.log("heavy");\n');
    await writeFile(
      join(root, 'Dockerfile'),
      'FROM node:20-bookworm-slim AS production\nCOPY package.json /app/\nRUN sed "s/heavy/installed/" /app/package.json > /app/installed.json\nCOPY main.js /app/\n',
    );
    await workspace.commitAll('a service with a dependency step');

    const first = await runTasks('run', 'heavy:docker-push');
    expect(first).toMatch(new RegExp(`changemaker-heavy \\[.*\\] sha256:[0-9a-f]{64}: built with (podman|buildah) and pushed in [0-9.]+ s \\(layer cache, shared through ${testbed.registry.host}/admin/changemaker-heavy-cache\\)`));
    expect((await resultOf('heavy')) as unknown).toMatchObject({ layerCache: { reused: true, repository: `${testbed.registry.host}/admin/changemaker-heavy-cache` } });

    const again = await runTasks('run', 'heavy:docker-push', '--no-cache', '--no-registry-cache');
    expect(again).toMatch(/\(layer cache not read \(--no-cache\), shared through .*changemaker-heavy-cache\)/);
    expect(again).not.toMatch(/Using cache/);
    expect((await resultOf('heavy')) as unknown).toMatchObject({ layerCache: { reused: false } });
  });
});
