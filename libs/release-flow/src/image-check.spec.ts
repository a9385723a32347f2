import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyImage, ImageReference, ociLayoutImage, RegistryClient, registryImage } from '@changemaker/oci';
import type { ManifestImage } from '@changemaker/release-contract';
import { startRegistry, writeSyntheticImages, type TestRegistry, type WrittenImage } from '@changemaker/testing';
import { checkReleaseImages, imagesDriftedFromLock } from './image-check';
import { ReleaseImagesMissingError } from './release-flow-errors';

describe('checkReleaseImages against a real registry', () => {
  let registry: TestRegistry;
  let dir: string;
  let image: WrittenImage;
  const client = new RegistryClient({ credentials: {} });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-image-check-'));
    registry = await startRegistry();
    [image] = await writeSyntheticImages(dir, [{ tag: 'pg', kind: 'oci-index', platforms: ['linux/amd64', 'linux/arm64'], layers: [{ seed: 'pg', size: 10_000 }] }]);
    await copyImage(ociLayoutImage(dir, 'pg'), registryImage(client, ImageReference.parse(`${registry.host}/admin/postgres:16-alpine`)));
  });
  afterAll(async () => {
    await client.close();
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const images = (): ManifestImage[] => [
    { service: 'v2-postgres', reference: `${registry.host}/admin/postgres:16-alpine`, source: 'mirror' },
    { service: 'redis', reference: `${registry.host}/admin/redis:7-alpine`, source: 'mirror' },
    { service: 'api', reference: `${registry.host}/admin/changemaker-api:v1.0.0`, source: 'workspace' },
  ];
  const fixFor = (image: ManifestImage) => (image.source === 'mirror' ? 'npx nx run docker:mirror-images' : `npx nx run ${image.service}:nx-release-publish`);

  it('records the digest of every image present and names each missing one with the command that fixes it', async () => {
    const check = await checkReleaseImages(client, images(), fixFor);
    expect([...check.digests]).toEqual([[`${registry.host}/admin/postgres:16-alpine`, image.digest]]);
    expect(check.missing.map((missing) => [missing.service, missing.fix])).toEqual([
      ['redis', 'npx nx run docker:mirror-images'],
      ['api', 'npx nx run api:nx-release-publish'],
    ]);
    const error = new ReleaseImagesMissingError(check.missing);
    expect(error.message.split('\n')).toHaveLength(1);
    expect(error.message).toContain(`redis (${registry.host}/admin/redis:7-alpine: npx nx run docker:mirror-images)`);
  });

  it('says the registry could not be asked rather than calling every image missing', async () => {
    const check = await checkReleaseImages(client, [{ service: 'api', reference: '127.0.0.1:9/admin/changemaker-api:v1.0.0', source: 'workspace' }], fixFor);
    expect(check.missing).toEqual([]);
    expect(check.unreachable).toMatch(/127\.0\.0\.1:9/);
  });

  it('refuses a third-party image whose registry digest is not the one its mirror lock recorded', async () => {
    const check = await checkReleaseImages(client, images().slice(0, 1), fixFor);
    const lockOf = (digest: string, narrowed?: Record<string, string>) => new Map([['postgres:16-alpine', { source: 'docker.io/library/postgres:16-alpine', digest, narrowed }]]);
    const other = `sha256:${'0'.repeat(64)}`;
    const registryName = `${registry.host}/admin`;
    expect(imagesDriftedFromLock(images(), check, lockOf(image.digest), registryName, 'stack')).toEqual([]);
    expect(imagesDriftedFromLock(images(), check, lockOf(other, { 'linux/amd64': image.digest }), registryName, 'stack')).toEqual([]);
    expect(imagesDriftedFromLock(images(), check, new Map(), registryName, 'stack')).toEqual([]);
    const [drifted] = imagesDriftedFromLock(images(), check, lockOf(other), registryName, 'stack');
    expect(drifted?.fix).toBe(`the registry holds ${image.digest}, not the ${other} its mirror lock records: check what it is, then mirror it again, npx nx run stack:mirror-images --replace=postgres:16-alpine`);
  });
});
