import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { createThrowawayWorkspace, startFaultProxy, startImageTestbed, type FaultProxy, type ImageTestbed, type ThrowawayWorkspace } from '@changemaker/testing';
import { findStep, readWorkflows } from './workflow-file';

const services = ['admin', 'api', 'media-api', 'nginx'];
const workspaceRoot = join(__dirname, '../..');
const registryPassword = 'ci-registry-password-0b5e1c';
const manifestTypes = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

/**
 * The push workflow's own script, run as the runner runs it (bash -eo pipefail, in a clone, with
 * the step's environment), across a failed run: a change to api whose push the registry refuses,
 * then a change to admin alone. The next run must push api too, which `nx affected` against the
 * previous commit would not, and must send no layer of the images that did not change.
 */
describe('.gitea/workflows/images.yml after a failed run', () => {
  let testbed: ImageTestbed;
  let workspace: ThrowawayWorkspace;
  const proxies: FaultProxy[] = [];
  let pushScript: string;

  beforeAll(async () => {
    const images = (await readWorkflows(workspaceRoot)).find((file) => file.path.endsWith('/images.yml'));
    if (!images) throw new Error('.gitea/workflows/images.yml is missing');
    pushScript = findStep(images, 'push-images', 'push').run ?? '';
    testbed = await startImageTestbed();
    workspace = await createThrowawayWorkspace(workspaceRoot);
  }, 300_000);
  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.stop()));
    await workspace?.remove();
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

  async function builtServices(): Promise<string[]> {
    const results = await Promise.all(services.map(async (service) => JSON.parse(await readFile(join(workspace.root, 'dist/images', `${service}.json`), 'utf8')) as { built: boolean }));
    return services.filter((_service, index) => results[index].built);
  }

  async function change(file: string, addition: string): Promise<string> {
    await appendFile(join(workspace.root, file), `\n${addition}\n`);
    return workspace.commitAll(`change ${file}`);
  }

  it('catches up the image a failed run left out, and re-tags the unchanged ones registry-side', async () => {
    const apiChange = await change('apps/api/src/main.ts', 'export const ciChange = "api";');
    const refusingApi = await registryInFrontOf([{ method: 'PUT', path: /^\/v2\/admin\/changemaker-api\/manifests\//, fault: { kind: 'status', status: 500 }, times: 1_000 }]);
    const failed = await runPushStep(refusingApi);
    expect(failed.exitCode).not.toBe(0);
    expect(failed.all).toMatch(/api: \w+ push failed: .*500 Internal Server Error/);
    expect(await servicesTagged(apiChange)).toEqual(['admin', 'media-api', 'nginx']);

    const adminChange = await change('apps/admin/src/index.html', '<!-- a change to admin alone -->');
    const registry = await registryInFrontOf();
    const next = await runPushStep(registry);
    expect(next.exitCode).toBe(0);
    expect(await servicesTagged(adminChange)).toEqual(services);
    expect(await builtServices()).toEqual(['admin', 'api']);

    const layerUploads = registry.requests.filter((request) => request.method === 'POST' && /\/blobs\/uploads\//.test(request.path));
    const uploadedTo = new Set(layerUploads.map((request) => request.path.split('/')[3]));
    expect([...uploadedTo].sort()).toEqual(['changemaker-admin', 'changemaker-api']);
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
    expect(await builtServices()).toEqual(services);
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
    expect(await builtServices()).toEqual([]);
    expect(await digestsAt(next)).toEqual(rebuilt);
  }, 900_000);

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
