import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFaultProxy, startRegistry, startTokenServer, writeSyntheticImages, type TestRegistry, type TokenServer, type WrittenImage } from '@changemaker/testing';
import { copyImage } from './copy-image';
import { ImageReference } from './image-reference';
import { ociLayoutImage } from './oci-layout';
import { RegistryAuthError } from './oci-errors';
import { RegistryClient } from './registry-client';
import { registryImage } from './registry-repository';

const credentials = { username: 'pusher', password: 'bearer-flow-secret' };

describe('the Bearer token flow against a real registry in token mode', () => {
  let tokens: TokenServer;
  let registry: TestRegistry;
  let dir: string;
  let image: WrittenImage;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-bearer-'));
    tokens = await startTokenServer({ credentials });
    registry = await startRegistry({ authConfig: tokens.registryAuthConfig });
    [image] = await writeSyntheticImages(dir, [{ tag: 'app', kind: 'oci-index', platforms: ['linux/amd64', 'linux/arm64'], layers: [{ seed: 'layer', size: 200_000 }] }]);
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    tokens.requests.length = 0;
  });

  const authed = () => new RegistryClient({ credentials: { [registry.host]: credentials } });

  it('pushes with a push token and reads with a cached pull token', async () => {
    const client = authed();
    const ref = ImageReference.parse(`${registry.host}/team/app:1`);
    const result = await copyImage(ociLayoutImage(dir, 'app'), registryImage(client, ref));
    expect(result.digest).toBe(image.digest);
    expect(tokens.requests.every((r) => r.user === 'pusher' && r.service === tokens.service)).toBe(true);
    expect(tokens.requests.map((r) => r.scopes)).toContainEqual(['repository:team/app:pull,push']);
    for (let i = 0; i < 3; i++) expect((await client.headManifest(ref))?.digest).toBe(image.digest);
    // One token per scope set for the whole copy and the reads after it.
    const scopeSets = tokens.requests.map((r) => r.scopes.join(' '));
    expect(scopeSets.sort()).toEqual(['repository:team/app:pull', 'repository:team/app:pull,push']);
  });

  it('asks for pull on the mount source together with push on the target', async () => {
    const client = authed();
    const result = await copyImage(registryImage(client, ImageReference.parse(`${registry.host}/team/app:1`)), registryImage(client, ImageReference.parse(`${registry.host}/other/app:1`)));
    expect(result.blobsMounted).toBeGreaterThan(0);
    expect(result.bytesCopied).toBe(0);
    expect(tokens.requests.map((r) => [...r.scopes].sort())).toContainEqual(['repository:other/app:pull,push', 'repository:team/app:pull']);
  });

  it('fetches a new token once the cached one expires', async () => {
    // expires_in 11 s minus the client's 10 s safety margin: stale after one second.
    const shortLived = await startTokenServer({ credentials, expiresIn: 11 });
    const shortRegistry = await startRegistry({ authConfig: shortLived.registryAuthConfig });
    try {
      const client = new RegistryClient({ credentials: { [shortRegistry.host]: credentials } });
      const ref = ImageReference.parse(`${shortRegistry.host}/team/app:1`);
      await client.headManifest(ref);
      expect(shortLived.requests).toHaveLength(1);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await client.headManifest(ref);
      expect(shortLived.requests).toHaveLength(2);
    } finally {
      await shortRegistry.stop();
      await shortLived.stop();
    }
  });

  it('lets anonymous clients pull but not push, and says how to log in', async () => {
    const anonymous = new RegistryClient({ credentials: {} });
    expect((await anonymous.headManifest(ImageReference.parse(`${registry.host}/team/app:1`)))?.digest).toBe(image.digest);
    const push = copyImage(ociLayoutImage(dir, 'app'), registryImage(anonymous, ImageReference.parse(`${registry.host}/team/anon:1`)));
    await expect(push).rejects.toThrow(RegistryAuthError);
    await expect(push).rejects.toThrow(`push to team/anon needs credentials, or the repository does not exist; run \`docker login ${registry.host}\``);
  });

  it("reads Gitea's Basic challenge to a granted token as no access, not as a wrong password", async () => {
    // Gitea and Forgejo grant a token to any user, then answer a request its user (or the
    // token's scopes) may not make with 401 and `Basic realm="Gitea Package API"`.
    const basic = { kind: 'status' as const, status: 401, headers: { 'www-authenticate': 'Basic realm="Gitea Package API"' } };
    await copyImage(ociLayoutImage(dir, 'app'), registryImage(authed(), ImageReference.parse(`${registry.host}/team/app:1`)));
    const gitea = await startFaultProxy(registry.host, [{ method: 'PUT', path: /\/manifests\//, fault: basic, times: 2 }]);
    try {
      const client = new RegistryClient({ credentials: { [gitea.host]: credentials } });
      const ref = ImageReference.parse(`${gitea.host}/team/app:1`);
      const manifest = await client.getManifest(ref);
      const error = await client.putManifest(ref.withTag('2'), manifest.bytes, manifest.mediaType).catch((e: Error) => e);
      expect(error).toBeInstanceOf(RegistryAuthError);
      expect((error as Error).message).toContain('user "pusher" may not push to team/app');
      expect((error as Error).message).toContain('write:package');
      expect((error as Error).message).not.toContain('password');
      // Refused once: the password is not tried in place of the token.
      expect(gitea.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
    } finally {
      await gitea.stop();
    }
  });

  it('names the user on a wrong password and never shows the password', async () => {
    const client = new RegistryClient({ credentials: { [registry.host]: { username: 'pusher', password: 'not-the-bearer-secret' } } });
    const error = await client.headManifest(ImageReference.parse(`${registry.host}/team/app:1`)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as Error).message).toContain('"pusher"');
    expect((error as Error).message).not.toContain('not-the-bearer-secret');
  });

  it('waits out a token service answering 429 with Retry-After, or a 503, and asks it again', async () => {
    const throttled = await startFaultProxy(new URL(tokens.realm).host, [
      { method: 'GET', fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } }, times: 1 },
      { method: 'GET', fault: { kind: 'status', status: 503 }, times: 1 },
    ]);
    const behindProxy = await startRegistry({ authConfig: tokens.registryAuthConfig.replace(tokens.realm, tokens.realm.replace(new URL(tokens.realm).host, throttled.host)) });
    try {
      const client = new RegistryClient({ credentials: { [behindProxy.host]: credentials }, retry: { baseDelayMs: 10 } });
      const started = Date.now();
      expect(await client.headManifest(ImageReference.parse(`${behindProxy.host}/team/app:1`))).toBeUndefined();
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(throttled.requests.map((request) => request.fault ?? 'forwarded')).toEqual(['status', 'status', 'forwarded']);
    } finally {
      await behindProxy.stop();
      await throttled.stop();
    }
  });
});
