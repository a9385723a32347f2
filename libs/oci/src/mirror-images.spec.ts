import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort, skopeoManifestDigest, startFaultProxy, startRegistry, writeSyntheticImages, type TestRegistry, type WrittenImage } from '@changemaker/testing';
import { copyImage } from './copy-image';
import type { ChildDescriptor } from './descriptors';
import { ImageReference } from './image-reference';
import { mediaTypes } from './media-types';
import { mirrorImages, type MirrorImagesOptions, type MirrorOutcome } from './mirror-images';
import type { MirrorImage } from './mirror-list';
import { recordMirrored, type MirrorLock } from './mirror-lock';
import { ociLayoutImage } from './oci-layout';
import { RegistryClient } from './registry-client';
import type { RegistryRequestEvent } from './registry-transport';
import { registryImage } from './registry-repository';

const credentials = { username: 'mirror', password: 'target-registry-secret' };

describe('mirrorImages between real registries', () => {
  let source: TestRegistry;
  let target: TestRegistry;
  let dir: string;
  let images: Record<string, WrittenImage>;
  let nestedDigest: string;
  let events: RegistryRequestEvent[];
  let client: RegistryClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-mirror-images-'));
    [source, target] = await Promise.all([startRegistry(), startRegistry({ credentials })]);
    const written = await writeSyntheticImages(join(dir, 'layout'), [
      { tag: 'multi', kind: 'oci-index', platforms: ['linux/amd64', 'linux/arm64', 'linux/arm/v7'], layers: [{ seed: 'base', size: 200_000 }, { seed: 'm-{platform}', size: 30_000 }], attestation: true },
      { tag: 'dockerlist', kind: 'docker-list', platforms: ['linux/amd64', 'linux/arm64'], layers: [{ seed: 'base', size: 200_000 }, { seed: 'd-{platform}', size: 30_000 }] },
      { tag: 'single', kind: 'single', platforms: ['linux/amd64'], layers: [{ seed: 'base', size: 200_000 }] },
      { tag: 'riscv', kind: 'single', platforms: ['linux/riscv64'], layers: [{ seed: 'r', size: 20_000 }] },
    ]);
    images = Object.fromEntries(written.map((image) => [image.tag, image]));
    const pusher = new RegistryClient({ credentials: {} });
    const upstream = (name: string) => registryImage(pusher, ImageReference.parse(`${source.host}/upstream/${name}`));
    for (const image of written) await copyImage(ociLayoutImage(join(dir, 'layout'), image.tag), upstream(`${image.tag}:1.0`));
    // An index whose children are an OCI index, a Docker manifest list and a plain manifest.
    for (const name of ['multi', 'dockerlist', 'riscv']) await copyImage(ociLayoutImage(join(dir, 'layout'), name), upstream(`nested:part-${name}`));
    const child = async (name: string, platform?: ChildDescriptor['platform']): Promise<ChildDescriptor> => {
      const head = await pusher.headManifest(ImageReference.parse(`${source.host}/upstream/${name}:1.0`));
      return { mediaType: head!.mediaType, digest: head!.digest, size: head!.size, ...(platform ? { platform } : {}) };
    };
    const outer = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.ociIndex,
      manifests: [await child('multi'), await child('dockerlist'), await child('riscv', { os: 'linux', architecture: 'riscv64' })],
    }));
    nestedDigest = await pusher.putManifest(ImageReference.parse(`${source.host}/upstream/nested:1.0`), outer, mediaTypes.ociIndex);
    await pusher.close();
    events = [];
    client = new RegistryClient({ credentials: { [target.host]: credentials }, onRequest: (event) => events.push(event) });
  });
  afterAll(async () => {
    await client?.close();
    await Promise.all([source?.stop(), target?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  const pin = (name: string, line = 1): MirrorImage => ({ group: 'core', source: ImageReference.parse(`${source.host}/upstream/${name}:1.0`), target: `${name}:1.0`, file: 'list.json', line });
  const all = () => ['multi', 'dockerlist', 'single', 'nested'].map((name, i) => pin(name, i + 1));
  const mirror = (list: MirrorImage[], namespace: string, options: Partial<MirrorImagesOptions> = {}) =>
    mirrorImages(list, { client, targetRegistry: `${target.host}/${namespace}`, concurrency: 2, ...options });
  const manifestAt = async (ref: string) => JSON.parse((await client.getManifest(ImageReference.parse(ref))).bytes.toString()) as { manifests: ChildDescriptor[] };
  const requestsTo = (registry: TestRegistry) => events.filter((e) => e.registry === registry.host).map((e) => e.method);

  it('narrows an index of indexes at every depth, keeping the matching leaves, their attestation and the structure above them', async () => {
    const [outcome] = await mirror([pin('nested')], 'amd64', { platforms: ['linux/amd64'] });
    expect(outcome).toMatchObject({ status: 'copied', upstreamDigest: nestedDigest, narrowedTo: ['linux/amd64'] });
    expect(outcome.digest).not.toBe(nestedDigest);
    const ref = `${target.host}/amd64/nested:1.0`;
    expect(await skopeoManifestDigest(`docker://${ref}`, { registry: target.host, credentials })).toBe(outcome.digest);
    const outer = await manifestAt(ref);
    expect(outer.manifests.map((m) => m.mediaType)).toEqual([mediaTypes.ociIndex, mediaTypes.dockerManifestList]);
    const [multi, list] = await Promise.all(outer.manifests.map((m) => manifestAt(`${ref.replace(':1.0', '')}@${m.digest}`)));
    const amd64 = (await manifestAt(`${source.host}/upstream/multi:1.0`)).manifests[0];
    expect(multi.manifests.map((m) => m.platform?.architecture)).toEqual(['amd64', 'unknown']);
    expect(multi.manifests[0].digest).toBe(amd64.digest);
    expect(multi.manifests[1].annotations?.['vnd.docker.reference.digest']).toBe(amd64.digest);
    expect(list.manifests.map((m) => m.platform?.architecture)).toEqual(['amd64']);
  });

  it('drops an inner index with none of the platforms, and refuses an image with none, naming the platforms it has', async () => {
    const [riscv] = await mirror([pin('nested')], 'riscv', { platforms: ['linux/riscv64'] });
    expect(riscv.status).toBe('copied');
    expect((await manifestAt(`${target.host}/riscv/nested:1.0`)).manifests.map((m) => m.platform?.architecture)).toEqual(['riscv64']);
    const [none] = await mirror([pin('dockerlist')], 'none', { platforms: ['linux/s390x'] });
    expect(none.status).toBe('failed');
    expect(none.error).toMatch(/has none of the platforms linux\/s390x \(it has linux\/amd64, linux\/arm64\); add one of those to --platforms/);
    expect(await client.headManifest(ImageReference.parse(`${target.host}/none/dockerlist:1.0`))).toBeUndefined();
  });

  it('says why Gitea refuses an index of indexes, which it answers with a bare MANIFEST_INVALID', async () => {
    // Gitea and Forgejo accept only image manifests in an index: the inner indexes are stored, the outer one is not.
    const manifestInvalid = JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid' }] });
    const gitea = await startFaultProxy(target.host, [{ method: 'PUT', path: /\/manifests\/1\.0$/, fault: { kind: 'status', status: 400, body: manifestInvalid }, times: 1 }]);
    const giteaClient = new RegistryClient({ credentials: { [gitea.host]: credentials } });
    try {
      const [outcome] = await mirrorImages([pin('nested')], { client: giteaClient, targetRegistry: `${gitea.host}/gitea`, concurrency: 2 });
      expect(outcome.status).toBe('failed');
      const inner = (await manifestAt(`${source.host}/upstream/nested:1.0`)).manifests[0].digest;
      expect(outcome.error).toBe(
        `registry ${gitea.host} refused the index ${gitea.host}/gitea/nested:1.0 (MANIFEST_INVALID: manifest invalid): it lists another index (${inner}), ` +
          'and Gitea and Forgejo accept only image manifests in an index, so this image cannot be stored there as published; ' +
          'leave it out of the list for this registry, or mirror it to a registry that takes nested indexes or to an OCI layout (--registry=oci:<dir>)',
      );
    } finally {
      await giteaClient.close();
      await gitea.stop();
    }
  });

  it('re-runs with --platforms and the lock with HEAD requests only: one to each registry per image', async () => {
    const platforms = ['linux/arm64'];
    const first = await mirror(all(), 'rerun', { platforms });
    expect(first.map((o) => o.status)).toEqual(['copied', 'copied', 'copied', 'copied']);
    const lock = recordMirrored(new Map(), first, platforms, new Set(all().map((i) => i.target)));
    events.length = 0;
    const again = await mirror(all(), 'rerun', { platforms, lock });
    expect(again.map((o) => [o.status, o.digest])).toEqual(first.map((o) => ['current', o.digest]));
    expect(requestsTo(source)).toEqual(['HEAD', 'HEAD', 'HEAD', 'HEAD']);
    expect(requestsTo(target)).toEqual(['HEAD', 'HEAD', 'HEAD', 'HEAD']);
  });

  it.each([
    ['every platform', undefined],
    ['--platforms linux/arm64', ['linux/arm64']],
  ])('a dry run and the real run after it agree image by image (%s)', async (_, platforms) => {
    const namespace = `agree-${platforms ? 'arm64' : 'all'}`;
    // A target in a mixed state: one image as this mode makes it, one as the other mode would, two absent.
    const listed = new Set(all().map((i) => i.target));
    const otherMode = platforms ? undefined : ['linux/amd64'];
    const asThisMode = await mirror([pin('multi')], namespace, { platforms });
    const asOtherMode = await mirror([pin('dockerlist')], namespace, { platforms: otherMode });
    const lock = recordMirrored(recordMirrored(new Map(), asThisMode, platforms, listed), asOtherMode, otherMode, listed);
    const dry = await mirror(all(), namespace, { platforms, lock, dryRun: true });
    const real = await mirror(all(), namespace, { platforms, lock });
    const asPlanned = { copied: 'would-copy', replaced: 'would-replace' } as Record<string, string | undefined>;
    const decision = (o: MirrorOutcome) => [o.pin, asPlanned[o.status] ?? o.status, o.upstreamDigest, o.digest, o.narrowedTo, o.existingDigest];
    expect(dry.map(decision)).toEqual(real.map(decision));
    expect(dry.map((o) => o.status)).toEqual(['current', 'would-replace', 'would-copy', 'would-copy']);
    expect(dry[1].existingDigest).toBe(asOtherMode[0].digest);
    const dryAgain = await mirror(all(), namespace, { platforms, dryRun: true });
    expect(dryAgain.map(decision)).toEqual(real.map((o) => decision({ ...o, status: 'current', existingDigest: undefined })));
  });

  it('refuses an upstream tag that moved since the lock, writing nothing, until the move is accepted', async () => {
    const pusher = new RegistryClient({ credentials: {} });
    const moving = registryImage(pusher, ImageReference.parse(`${source.host}/upstream/moving:1.0`));
    await copyImage(ociLayoutImage(join(dir, 'layout'), 'single'), moving);
    const first = await mirror([pin('moving')], 'drift');
    const lock: MirrorLock = recordMirrored(new Map(), first, undefined, new Set(['moving:1.0']));
    expect(lock.get('moving:1.0')).toEqual({ source: `${source.host}/upstream/moving:1.0`, digest: images.single.digest });
    await copyImage(ociLayoutImage(join(dir, 'layout'), 'riscv'), moving);
    await pusher.close();
    events.length = 0;
    const [refused] = await mirror([pin('moving', 7)], 'drift', { lock });
    expect(refused).toMatchObject({ status: 'moved', lockedDigest: images.single.digest, upstreamDigest: images.riscv.digest });
    expect(refused.error).toContain(`upstream moved moving:1.0 from ${images.single.digest} to ${images.riscv.digest}`);
    expect(refused.error).toContain('list.json:7');
    expect(refused.error).toContain('--update=moving:1.0');
    expect(requestsTo(target)).toEqual(['HEAD']);
    expect((await client.headManifest(ImageReference.parse(`${target.host}/drift/moving:1.0`)))?.digest).toBe(images.single.digest);
    const [dry] = await mirror([pin('moving')], 'drift', { lock, dryRun: true });
    expect(dry.status).toBe('moved');
    const [accepted] = await mirror([pin('moving')], 'drift', { lock, acceptMoved: new Set(['moving:1.0']) });
    // The tag held what the lock recorded: accepting the move is the decision, the report says what it replaced.
    expect(accepted).toMatchObject({ status: 'replaced', existingDigest: images.single.digest, digest: images.riscv.digest });
    expect(recordMirrored(lock, [accepted], undefined, new Set(['moving:1.0'])).get('moving:1.0')?.digest).toBe(images.riscv.digest);
  });

  it('refuses to overwrite a target tag holding an image the lock does not record, the dry run agreeing, until --replace names the pin', async () => {
    const taken = ImageReference.parse(`${target.host}/occupied/single:1.0`);
    // Someone pushed another image under the tag the mirror writes.
    await copyImage(ociLayoutImage(join(dir, 'layout'), 'riscv'), registryImage(client, taken));
    const held = async () => (await client.headManifest(taken))?.digest;
    events.length = 0;
    const [refused] = await mirror([pin('single', 9)], 'occupied');
    expect(refused).toMatchObject({ status: 'occupied', existingDigest: images.riscv.digest, digest: images.single.digest });
    expect(refused.error).toBe(`the tag holds ${images.riscv.digest}, and its mirror lock records nothing for single:1.0 (pushed by hand, or mirrored with another lock); check what it is, then replace it with --replace=single:1.0`);
    // The lock records what upstream still serves: the tag was written behind the mirror's back.
    const lock: MirrorLock = new Map([['single:1.0', { source: `${source.host}/upstream/single:1.0`, digest: images.single.digest }]]);
    const [[againstLock], [dryRefused]] = await Promise.all([mirror([pin('single')], 'occupied', { lock }), mirror([pin('single')], 'occupied', { dryRun: true })]);
    expect(againstLock).toMatchObject({ status: 'occupied', lockedDigest: images.single.digest });
    expect(againstLock.error).toContain(`the tag holds ${images.riscv.digest}, not the ${images.single.digest} its mirror lock records`);
    expect(dryRefused).toMatchObject({ status: 'occupied', existingDigest: images.riscv.digest });
    const [dry] = await mirror([pin('single')], 'occupied', { dryRun: true, replaceOccupied: new Set(['single:1.0']) });
    expect(dry).toMatchObject({ status: 'would-replace', existingDigest: images.riscv.digest, digest: images.single.digest });
    expect(requestsTo(target).filter((method) => method !== 'HEAD')).toEqual([]);
    expect(await held()).toBe(images.riscv.digest);

    const [replaced] = await mirror([pin('single')], 'occupied', { replaceOccupied: 'all' });
    expect(replaced).toMatchObject({ status: 'replaced', existingDigest: images.riscv.digest, digest: images.single.digest });
    expect(await held()).toBe(images.single.digest);
    expect(recordMirrored(new Map(), [replaced], undefined, new Set(['single:1.0'])).get('single:1.0')?.digest).toBe(images.single.digest);
  });

  it('replaces, unasked but reported, a target tag holding what the lock recorded for the pin before its source was edited', async () => {
    await copyImage(ociLayoutImage(join(dir, 'layout'), 'riscv'), registryImage(client, ImageReference.parse(`${target.host}/edited/single:1.0`)));
    const lock: MirrorLock = new Map([['single:1.0', { source: `${source.host}/upstream/riscv:1.0`, digest: images.riscv.digest }]]);
    const [dry] = await mirror([pin('single')], 'edited', { lock, dryRun: true });
    expect(dry).toMatchObject({ status: 'would-replace', existingDigest: images.riscv.digest, digest: images.single.digest });
    const [real] = await mirror([pin('single')], 'edited', { lock });
    expect(real).toMatchObject({ status: 'replaced', existingDigest: images.riscv.digest, digest: images.single.digest });
    const [again] = await mirror([pin('single')], 'edited', { lock: recordMirrored(lock, [real], undefined, new Set(['single:1.0'])) });
    expect(again).toMatchObject({ status: 'current', existingDigest: undefined });
  });

  it('mirrors a pin given as tag and digest, and names the list line of an image upstream does not have', async () => {
    const pinned: MirrorImage = { ...pin('multi'), source: ImageReference.parse(`${source.host}/upstream/multi:1.0@${images.multi.digest}`), target: 'pinned:1.0' };
    const [byDigest, missing] = await mirror([pinned, pin('absent', 12)], 'pins');
    expect(byDigest).toMatchObject({ status: 'copied', upstreamDigest: images.multi.digest, digest: images.multi.digest });
    expect(missing.status).toBe('failed');
    expect(missing.error).toMatch(/^list\.json:12: manifest unknown: .*absent:1\.0 does not exist; check the pin: the tag may be misspelt or removed upstream/);
  });

  it('tries a registry that did not answer once only: the later images that need it fail at once, saying so', async () => {
    const closed = `127.0.0.1:${await findFreePort()}`;
    const once = new RegistryClient({ credentials: {}, retry: { attempts: 1 } });
    try {
      const fromClosed = ['a', 'b', 'c'].map((name, index) => ({ ...pin('single', index + 1), source: ImageReference.parse(`${closed}/upstream/${name}:1.0`), target: `${name}:1.0` }));
      const outcomes = await mirrorImages(fromClosed, { client: once, targetRegistry: `${target.host}/closed-source`, concurrency: 1 });
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['failed', 'failed', 'failed']);
      expect(outcomes[0]?.error).toMatch(new RegExp(`registry ${closed} is unreachable`));
      expect(outcomes.slice(1).map((outcome) => outcome.error)).toEqual(Array(2).fill(`not tried: registry ${closed} did not answer for an earlier image (see its message)`));

      const toClosed = await mirrorImages([pin('single'), pin('multi')], { client: once, targetRegistry: `${closed}/admin`, concurrency: 1 });
      expect(toClosed[1]?.error).toBe(`not tried: registry ${closed} did not answer for an earlier image (see its message)`);
    } finally {
      await once.close();
    }
  });

  it('says what to check when a registry cannot be reached', async () => {
    const closed = `127.0.0.1:${await findFreePort()}`;
    const once = new RegistryClient({ credentials: {}, retry: { attempts: 1 } });
    try {
      const [outcome] = await mirrorImages([{ ...pin('single'), source: ImageReference.parse(`${closed}/upstream/single:1.0`) }], { client: once, targetRegistry: `${target.host}/unreachable`, concurrency: 1 });
      expect(outcome.status).toBe('failed');
      expect(outcome.error).toMatch(new RegExp(`registry ${closed} is unreachable: .*ECONNREFUSED.*; check the host and port, that the registry is running, and the network or proxy between \\(a plain-http registry also needs --insecure-registries\\)`));
    } finally {
      await once.close();
    }
  });
});
