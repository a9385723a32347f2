import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { addBareOrigin, createThrowawayWorkspace, findFreePort, startFaultProxy, startImageTestbed, type FaultProxy, type ImageTestbed, type ThrowawayWorkspace } from '@changemaker/testing';
import { findStep, readWorkflows, type WorkflowFile } from './workflow-file';

const services = ['admin', 'api', 'media-api', 'nginx'];
const workspaceRoot = join(__dirname, '../..');
const registryPassword = 'ci-registry-password-0b5e1c';
const manifestTypes = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

/**
 * The push workflow's own scripts, run as the runner runs them (bash -eo pipefail, in a clone whose
 * origin is a bare repository, with the step's environment). Across a failed run: a change to api
 * whose push the registry refuses, then a change to admin alone. The next run must push api too,
 * which `nx affected` against the previous commit would not, and must send no layer of the images
 * that did not change. `latest` follows origin's main, never an older commit's run.
 */
describe('.gitea/workflows/images.yml, run as the runner runs it', () => {
  let testbed: ImageTestbed;
  let workspace: ThrowawayWorkspace;
  let origin: string;
  const proxies: FaultProxy[] = [];
  let images: WorkflowFile;
  let pushScript: string;

  beforeAll(async () => {
    const found = (await readWorkflows(workspaceRoot)).find((file) => file.path.endsWith('/images.yml'));
    if (!found) throw new Error('.gitea/workflows/images.yml is missing');
    images = found;
    pushScript = findStep(images, 'push-images', 'push').run ?? '';
    testbed = await startImageTestbed();
    workspace = await createThrowawayWorkspace(workspaceRoot);
    origin = await mkdtemp(join(tmpdir(), 'cm-origin-'));
    await addBareOrigin(workspace, origin);
  }, 300_000);
  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.stop()));
    await workspace?.remove();
    if (origin) await rm(origin, { recursive: true, force: true });
    await testbed?.stop();
  });

  async function registryInFrontOf(rules: Parameters<typeof startFaultProxy>[1] = []): Promise<FaultProxy> {
    const proxy = await startFaultProxy(testbed.registry.host, rules);
    proxies.push(proxy);
    return proxy;
  }

  function runPushStep(proxy: FaultProxy, stepEnv: Record<string, string> = {}) {
    return execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', pushScript], {
      cwd: workspace.root,
      env: { ...testbed.nxEnv, CI: 'true', GITEA_REGISTRY: `${proxy.host}/admin`, GITEA_REGISTRY_USER: 'ci-bot', GITEA_REGISTRY_PASSWORD: registryPassword, ...stepEnv },
      all: true,
      reject: false,
    });
  }

  async function servicesTagged(tag: string): Promise<string[]> {
    const tagged = await Promise.all(
      services.map(async (service) => {
        const response = await fetch(`${testbed.registry.url}/v2/admin/changemaker-${service}/tags/list`);
        const tags = response.ok ? ((await response.json()) as { tags: string[] }).tags : [];
        return tags.includes(tag) ? [service] : [];
      }),
    );
    return tagged.flat();
  }

  /** The services a run built, from the executor's summary lines (dist/images/ holds the last invocation's result, the latest tagging's). */
  function builtServices(run: { all?: string }): string[] {
    return services.filter((service) => new RegExp(`/changemaker-${service} \\[.*: built with \\w+ and pushed`).test(stripVTControlCharacters(run.all ?? '')));
  }

  /** A commit pushed to origin's main, as a merge that starts the workflow. */
  async function change(file: string, addition: string): Promise<string> {
    await appendFile(join(workspace.root, file), `\n${addition}\n`);
    const commit = await workspace.commitAll(`change ${file}`);
    await workspace.git('push', '-q', 'origin', 'HEAD:refs/heads/main');
    return commit;
  }

  /** The repositories whose `latest` the run wrote. */
  const latestPuts = (proxy: FaultProxy) =>
    proxy.requests.filter((request) => request.method === 'PUT' && /\/manifests\/latest$/.test(request.path)).map((request) => request.path.split('/')[3]).sort();

  it('catches up the image a failed run left out, and re-tags the unchanged ones registry-side', async () => {
    const apiChange = await change('apps/api/src/main.ts', 'export const ciChange = "api";');
    const refusingApi = await registryInFrontOf([{ method: 'PUT', path: /^\/v2\/admin\/changemaker-api\/manifests\//, fault: { kind: 'status', status: 500 }, times: 1_000 }]);
    const failed = await runPushStep(refusingApi);
    expect(failed.exitCode).not.toBe(0);
    expect(failed.all).toMatch(/api: \w+ push failed: .*500 Internal Server Error/);
    expect(await servicesTagged(apiChange)).toEqual(['admin', 'media-api', 'nginx']);
    // latest moves only once every image is pushed under the commit: it never mixes two commits' images.
    expect(latestPuts(refusingApi)).toEqual([]);

    const adminChange = await change('apps/admin/src/index.html', '<!-- a change to admin alone -->');
    const registry = await registryInFrontOf();
    const next = await runPushStep(registry);
    expect(next.exitCode).toBe(0);
    expect(await servicesTagged(adminChange)).toEqual(services);
    expect(builtServices(next)).toEqual(['admin', 'api']);

    const layerUploads = registry.requests.filter((request) => request.method === 'POST' && /\/blobs\/uploads\//.test(request.path));
    const uploadedTo = new Set(layerUploads.map((request) => request.path.split('/')[3]));
    expect([...uploadedTo].sort()).toEqual(['changemaker-admin', 'changemaker-api']);
    expect(await digestsAt('latest')).toEqual(await digestsAt(adminChange));
    for (const output of [failed.all, next.all]) expect(output).not.toContain(registryPassword);
  }, 900_000);

  it('is needed: nx affected against the previous commit would leave api out', async () => {
    const { stdout } = await execa('node', [join(workspace.root, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects', '--affected', '--base=HEAD~1', '--head=HEAD', '--with-target', 'docker-push', '--json'], {
      cwd: workspace.root,
      env: testbed.nxEnv,
    });
    expect(JSON.parse(stdout)).toEqual(['admin']);
  });

  it('the weekly rebuild picks up an updated base image, keeps the images it did not change, and later pushes tag the rebuilt ones registry-side', async () => {
    const before = await digestsAt(await workspace.git('rev-parse', 'HEAD'));
    const fixLayer = await publishPatchedNginxBase();
    const rebuild = await runPushStep(await registryInFrontOf(), { REBUILD: 'true' });
    expect(rebuild.exitCode).toBe(0);
    expect(builtServices(rebuild)).toEqual(services);
    const rebuilt = await digestsAt(await workspace.git('rev-parse', 'HEAD'));
    // admin and nginx are built FROM nginx: they now hold the fixed base; api and media-api are built FROM node.
    const layersOf = (service: string) => diffIdsOf(testbed.registry.url, `admin/changemaker-${service}`, rebuilt[service]!);
    for (const service of ['admin', 'nginx']) expect(await layersOf(service)).toContain(fixLayer);
    for (const service of ['api', 'media-api']) expect(await layersOf(service)).not.toContain(fixLayer);
    // api was built at this commit, media-api at an earlier one: both are the images they were.
    for (const service of ['api', 'media-api']) expect(rebuilt[service]).toBe(before[service]);
    expect(rebuild.all).toMatch(/changemaker-media-api: rebuilt into what the image already under these inputs holds .*kept that one/);

    const next = await change('README.md', 'A change no image holds.');
    const push = await runPushStep(await registryInFrontOf());
    expect(push.exitCode).toBe(0);
    expect(builtServices(push)).toEqual([]);
    expect(await digestsAt(next)).toEqual(rebuilt);
  }, 900_000);

  it('leaves latest at the newer image when an older commit\'s run ends after a newer one\'s (or is re-run), and pushes the older commit under its sha', async () => {
    const older = await change('apps/api/src/main.ts', 'export const olderChange = "api";');
    const newer = await change('apps/admin/src/index.html', '<!-- a newer change, to admin -->');
    const newerRun = await runPushStep(await registryInFrontOf());
    expect({ exitCode: newerRun.exitCode, all: newerRun.all }).toEqual({ exitCode: 0, all: expect.any(String) });
    const newest = await digestsAt(newer);
    expect(await digestsAt('latest')).toEqual(newest);

    await workspace.git('checkout', '-q', '--detach', older);
    try {
      const registry = await registryInFrontOf();
      const olderRun = await runPushStep(registry);
      expect({ exitCode: olderRun.exitCode, all: olderRun.all }).toEqual({ exitCode: 0, all: expect.any(String) });
      expect(await servicesTagged(older)).toEqual(services);
      expect(latestPuts(registry)).toEqual([]);
      expect(await digestsAt('latest')).toEqual(newest);
      // admin differs between the two commits, so latest is seen to be the newer one's image.
      expect((await digestsAt(older))['admin']).not.toBe(newest['admin']);
      expect(olderRun.all.split('\n')).toContain(`latest left alone: origin's main is at ${newer}, not at ${older}, which this run built`);
    } finally {
      await workspace.git('checkout', '-q', 'main');
    }
  }, 900_000);

  it('fails the step with one line when origin cannot be asked whether the commit is still main\'s tip, leaving latest alone', async () => {
    const unpushed = await workspace.commitAll('a commit whose run cannot reach origin');
    const unreachable = `http://127.0.0.1:${await findFreePort()}/admin/changemaker.git`;
    await workspace.git('remote', 'set-url', 'origin', unreachable);
    try {
      const registry = await registryInFrontOf();
      const run = await runPushStep(registry);
      expect(run.exitCode).not.toBe(0);
      expect(await servicesTagged(unpushed)).toEqual(services);
      expect(latestPuts(registry)).toEqual([]);
      expect(run.stderr.split('\n')).toContain(
        `latest not moved: could not read main from origin (git ls-remote, above), so whether ${unpushed} is still its tip is unknown; the images are pushed under ${unpushed}; re-run the job once origin answers`,
      );
    } finally {
      await workspace.git('remote', 'set-url', 'origin', origin);
    }
  }, 900_000);

  it('tests the image projects before any push, and fails that step on a failing test of a service', async () => {
    const testScript = findStep(images, 'push-images', 'test').run ?? '';
    const runTestStep = () =>
      execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', testScript], { cwd: workspace.root, env: { ...testbed.nxEnv, CI: 'true' }, all: true, reject: false });
    const passing = await runTestStep();
    const passingOutput = stripVTControlCharacters(passing.all ?? '');
    expect({ exitCode: passing.exitCode, output: passingOutput }).toEqual({ exitCode: 0, output: expect.stringContaining('Successfully ran targets typecheck, test') });
    const tasksRun = [...passingOutput.matchAll(/^> nx run (\S+)/gm)].map((match) => match[1]).sort();
    expect(tasksRun).toEqual(['admin:test', 'admin:typecheck', 'api:test', 'api:typecheck', 'media-api:test', 'media-api:typecheck', 'service-health:test']);

    const spec = join(workspace.root, 'apps/api/src/app.spec.ts');
    const original = await readFile(spec, 'utf8');
    await appendFile(spec, "\ntest('a regression', () => expect('broken').toBe('ok'));\n");
    try {
      const failing = await runTestStep();
      expect(failing.exitCode).not.toBe(0);
      const output = stripVTControlCharacters(failing.all ?? '');
      expect(output).toMatch(/^\s*- api:test$/m);
      expect(output).toContain('a regression');
    } finally {
      await writeFile(spec, original);
    }
  }, 300_000);

  /** nginx's base, updated upstream: the Docker Hub stand-in gets a new image under the same tag. Answers the layer the update added. */
  async function publishPatchedNginxBase(): Promise<string> {
    const context = join(workspace.root, 'tmp/patched-nginx');
    await mkdir(context, { recursive: true });
    await writeFile(join(context, 'Containerfile'), `FROM ${testbed.hub.host}/library/nginx:1.27-alpine\nCOPY security-fix /etc/security-fix\n`);
    await writeFile(join(context, 'security-fix'), 'patched\n');
    await testbed.sandbox.buildah(['build', '--tag', 'localhost/patched-nginx', '--file', join(context, 'Containerfile'), context]);
    await testbed.sandbox.buildah(['push', '--tls-verify=false', 'localhost/patched-nginx', `docker://${testbed.hub.host}/library/nginx:1.27-alpine`]);
    return (await diffIdsOf(testbed.hub.url, 'library/nginx', '1.27-alpine')).at(-1)!;
  }

  /** The image's layers by their uncompressed digests (config rootfs.diff_ids), which no recompression changes. */
  async function diffIdsOf(registryUrl: string, repository: string, reference: string): Promise<string[]> {
    const manifest = (await (await fetch(`${registryUrl}/v2/${repository}/manifests/${reference}`, { headers: { accept: manifestTypes } })).json()) as { config: { digest: string } };
    const config = (await (await fetch(`${registryUrl}/v2/${repository}/blobs/${manifest.config.digest}`)).json()) as { rootfs: { diff_ids: string[] } };
    return config.rootfs.diff_ids;
  }

  async function digestsAt(tag: string): Promise<Record<string, string | null>> {
    const digests = await Promise.all(
      services.map(async (service) => {
        const response = await fetch(`${testbed.registry.url}/v2/admin/changemaker-${service}/manifests/${tag}`, {
          method: 'HEAD',
          headers: { accept: manifestTypes },
        });
        return [service, response.ok ? response.headers.get('docker-content-digest') : null] as const;
      }),
    );
    return Object.fromEntries(digests);
  }
});
