import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { copyImage, ImageReference, ociLayoutImage, RegistryClient, registryImage } from '@changemaker/oci';
import { runNx, startFaultProxy, startRegistry, writeSyntheticImages, type FaultProxy, type TestRegistry } from '@changemaker/testing';

const workspaceRoot = resolve(__dirname, '../../../../..');

/** `nx run docker:mirror-images` as a user types it, against a loopback registry, into an OCI layout. */
describe('nx run docker:mirror-images', () => {
  let dir: string;
  let source: TestRegistry;
  let sourceProxy: FaultProxy;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-mirror-nx-'));
    source = await startRegistry();
    sourceProxy = await startFaultProxy(source.host);
    const [image] = await writeSyntheticImages(join(dir, 'layout'), [{ tag: 'alpha', kind: 'single', platforms: ['linux/amd64'], layers: [{ seed: 'base', size: 10_000 }] }]);
    await copyImage(ociLayoutImage(join(dir, 'layout'), image.tag), registryImage(new RegistryClient({ credentials: {} }), ImageReference.parse(`${source.host}/upstream/alpha:1.0`)));
    await writeFile(join(dir, 'mirror.json'), JSON.stringify({ groups: { core: { images: [{ source: `${sourceProxy.host}/upstream/alpha:1.0`, target: 'alpha:1.0' }] } } }, null, 2));
  });
  afterAll(async () => {
    await sourceProxy?.stop();
    await source?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const nx = (...args: string[]) =>
    runNx(workspaceRoot, ['run', 'docker:mirror-images', `--manifest=${join(dir, 'mirror.json')}`, `--registry=oci:${join(dir, 'bundle')}`, ...args], { GITEA_URL: 'http://127.0.0.1:9', GITEA_REGISTRY: '127.0.0.1:9/admin' });

  it('refuses --dryrun (for --dry-run) and --bogus-opt with one line, asking no registry and copying nothing', async () => {
    sourceProxy.requests.length = 0;
    for (const [typo, name] of [['--dryrun', 'dryrun'], ['--bogus-opt', 'bogus-opt']]) {
      const run = await nx(typo);
      expect(run.exitCode).not.toBe(0);
      expect(run.all).toContain(`'${name}' is not found in schema`);
    }
    expect(sourceProxy.requests).toEqual([]);
    expect(existsSync(join(dir, 'bundle'))).toBe(false);
    expect(existsSync(join(dir, 'mirror.lock.json'))).toBe(false);
  });

  it('--dry-run, spelt right, plans the copy and still writes nothing', async () => {
    const run = await nx('--dry-run');
    expect(run.exitCode).toBe(0);
    expect(run.all).toMatch(/would copy\s+core: /);
    expect(sourceProxy.requests.filter((request) => request.method !== 'HEAD')).toEqual([]);
    expect(existsSync(join(dir, 'mirror.lock.json'))).toBe(false);
  });
});
