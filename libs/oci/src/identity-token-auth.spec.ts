import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFaultProxy, startRegistry, startTokenServer, writeSyntheticImages, type TestRegistry, type TokenServer, type WrittenImage } from '@changemaker/testing';
import { copyImage } from './copy-image';
import { ImageReference } from './image-reference';
import { ociLayoutImage } from './oci-layout';
import { IdentityTokenRejectedError, RegistryAuthError } from './oci-errors';
import { RegistryClient } from './registry-client';
import { dockerCredentialResolver } from './registry-credentials';
import type { RegistryRequestEvent } from './registry-transport';
import { registryImage } from './registry-repository';

const credentials = { username: 'pusher', password: 'identity-flow-password' };
const identityToken = 'idt-3f9c1e7a-refresh-token-from-docker-login';

describe('identity tokens from the docker config against a real registry in token mode', () => {
  let tokens: TokenServer;
  let registry: TestRegistry;
  let dir: string;
  let image: WrittenImage;
  let events: RegistryRequestEvent[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-identity-'));
    tokens = await startTokenServer({ credentials, identityToken });
    registry = await startRegistry({ authConfig: tokens.registryAuthConfig });
    [image] = await writeSyntheticImages(dir, [{ tag: 'app', kind: 'single', platforms: ['linux/amd64'], layers: [{ seed: 'identity-layer', size: 100_000 }] }]);
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    tokens.requests.length = 0;
    events = [];
  });

  /** A client reading only the given docker config, as after `docker login` on a user's machine. */
  async function clientWithDockerConfig(name: string, config: object, env: NodeJS.ProcessEnv = {}): Promise<RegistryClient> {
    const dockerConfigPath = join(dir, `${name}.json`);
    await writeFile(dockerConfigPath, JSON.stringify(config));
    return new RegistryClient({ credentials: dockerCredentialResolver({ env, dockerConfigPath }), onRequest: (event) => events.push(event) });
  }

  /** docker login writes the user with an empty password beside the identity token. */
  const loggedInWith = (token: string) => ({ auths: { [registry.host]: { auth: Buffer.from(`${credentials.username}:`).toString('base64'), identitytoken: token } } });

  function expectOnlyOAuth2Exchanges(): void {
    expect(tokens.requests.length).toBeGreaterThan(0);
    for (const request of tokens.requests) {
      expect(request).toMatchObject({ method: 'POST', grantType: 'refresh_token', clientId: 'docker', service: tokens.service, authorization: false });
      // The token travels in the POST body only.
      expect(request.target).toBe('/token');
    }
  }

  it('pushes and reads with the identitytoken of an auths entry, one exchange per scope set', async () => {
    const client = await clientWithDockerConfig('auths', loggedInWith(identityToken));
    const ref = ImageReference.parse(`${registry.host}/team/app:1`);
    const result = await copyImage(ociLayoutImage(dir, 'app'), registryImage(client, ref));
    expect(result.digest).toBe(image.digest);
    for (let i = 0; i < 3; i++) expect((await client.headManifest(ref))?.digest).toBe(image.digest);

    expectOnlyOAuth2Exchanges();
    expect(tokens.requests.every((request) => request.user === credentials.username)).toBe(true);
    expect(tokens.requests.map((request) => request.scopes.join(' ')).sort()).toEqual(['repository:team/app:pull', 'repository:team/app:pull,push']);
    expect(events.map((event) => event.url).join('\n')).not.toContain(identityToken);
    // A second opinion from a client with the password: the image is really there.
    const byPassword = new RegistryClient({ credentials: { [registry.host]: credentials } });
    expect((await byPassword.getManifest(ref)).digest).toBe(image.digest);
  });

  it('takes the identity token from a credential helper answering "<token>"', async () => {
    const helper = join(dir, 'docker-credential-identity');
    await writeFile(helper, `#!/bin/sh\nread host\necho '{"ServerURL":"'"$host"'","Username":"<token>","Secret":"${identityToken}"}'\n`);
    await chmod(helper, 0o700);
    const client = await clientWithDockerConfig('helper', { credHelpers: { [registry.host]: 'identity' } }, { PATH: `${dir}:${process.env['PATH']}` });
    const ref = ImageReference.parse(`${registry.host}/team/helper:1`);
    const result = await copyImage(ociLayoutImage(dir, 'app'), registryImage(client, ref));
    expect(result.digest).toBe(image.digest);
    expect((await client.headManifest(ref))?.digest).toBe(image.digest);
    expectOnlyOAuth2Exchanges();
  });

  it('says to run docker login again when the identity token is rejected, never showing it', async () => {
    const revoked = 'idt-revoked-token-that-must-not-leak';
    const client = await clientWithDockerConfig('revoked', loggedInWith(revoked));
    const error = await client.headManifest(ImageReference.parse(`${registry.host}/team/app:1`)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(IdentityTokenRejectedError);
    expect(error).toBeInstanceOf(RegistryAuthError);
    const message = (error as Error).message;
    expect(message).toBe(`registry ${registry.host} refused authentication: its token service rejected the identity token from the docker config; run \`docker login ${registry.host}\` again`);
    expect(`${message}\n${(error as Error).stack}`).not.toContain(revoked);
    expect(events.map((event) => event.url).join('\n')).not.toContain(revoked);
    expectOnlyOAuth2Exchanges();
  });

  it('exchanges the newest refresh token when the token service rotates them', async () => {
    const rotating = await startTokenServer({ credentials, identityToken, rotateIdentityToken: true });
    const rotatingRegistry = await startRegistry({ authConfig: rotating.registryAuthConfig });
    try {
      const dockerConfigPath = join(dir, 'rotating.json');
      await writeFile(dockerConfigPath, JSON.stringify({ auths: { [rotatingRegistry.host]: { identitytoken: identityToken } } }));
      const client = new RegistryClient({ credentials: dockerCredentialResolver({ env: {}, dockerConfigPath }) });
      // Two repositories, two scope sets, two exchanges: the second only works with the rotated token.
      expect(await client.headManifest(ImageReference.parse(`${rotatingRegistry.host}/team/one:1`))).toBeUndefined();
      expect(await client.headManifest(ImageReference.parse(`${rotatingRegistry.host}/team/two:1`))).toBeUndefined();
      expect(rotating.requests.map((request) => request.user)).toEqual([credentials.username, credentials.username]);
    } finally {
      await rotatingRegistry.stop();
      await rotating.stop();
    }
  });

  it('never sends an identity token as Basic auth to a registry that asks for a password', async () => {
    const basicRegistry = await startRegistry({ credentials });
    const proxy = await startFaultProxy(basicRegistry.host);
    try {
      const client = await clientWithDockerConfig('basic', { auths: { [proxy.host]: { identitytoken: identityToken } } });
      const error = await client.headManifest(ImageReference.parse(`${proxy.host}/team/app:1`)).catch((e: Error) => e);
      expect(error).toBeInstanceOf(RegistryAuthError);
      expect((error as Error).message).toContain(`${proxy.host} wants a password, but the docker config holds an identity token for it`);
      expect((error as Error).message).not.toContain(identityToken);
      expect(proxy.requests.length).toBeGreaterThan(0);
      expect(proxy.requests.every((request) => !request.authorized)).toBe(true);
    } finally {
      await proxy.stop();
      await basicRegistry.stop();
    }
  });
});
