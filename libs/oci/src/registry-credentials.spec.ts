import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveRegistryCredentials } from './registry-credentials';

describe('resolveRegistryCredentials', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-creds-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const writeConfig = async (config: unknown) => {
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify(config));
    return path;
  };

  it('uses GITEA_REGISTRY_USER/PASSWORD for the GITEA_REGISTRY host only', async () => {
    const env = { GITEA_REGISTRY: '127.0.0.1:5000/admin', GITEA_REGISTRY_USER: 'ci', GITEA_REGISTRY_PASSWORD: 's3cret' };
    const dockerConfigPath = join(dir, 'missing.json');
    expect(await resolveRegistryCredentials('127.0.0.1:5000', { env, dockerConfigPath })).toEqual({ username: 'ci', password: 's3cret' });
    expect(await resolveRegistryCredentials('127.0.0.1:5001', { env, dockerConfigPath })).toBeUndefined();
  });

  it('defaults the GITEA_REGISTRY host to gitea.bnkops.com', async () => {
    const env = { GITEA_REGISTRY_USER: 'ci', GITEA_REGISTRY_PASSWORD: 'pw' };
    const dockerConfigPath = join(dir, 'missing.json');
    expect(await resolveRegistryCredentials('gitea.bnkops.com', { env, dockerConfigPath })).toEqual({ username: 'ci', password: 'pw' });
  });

  it('decodes auths entries, including Docker Hub under its v1 URL', async () => {
    const dockerConfigPath = await writeConfig({
      auths: {
        '127.0.0.1:5000': { auth: Buffer.from('alice:pa:ss').toString('base64') },
        'https://index.docker.io/v1/': { auth: Buffer.from('bob:hub').toString('base64') },
      },
    });
    expect(await resolveRegistryCredentials('127.0.0.1:5000', { env: {}, dockerConfigPath })).toEqual({ username: 'alice', password: 'pa:ss' });
    expect(await resolveRegistryCredentials('docker.io', { env: {}, dockerConfigPath })).toEqual({ username: 'bob', password: 'hub' });
    expect(await resolveRegistryCredentials('ghcr.io', { env: {}, dockerConfigPath })).toBeUndefined();
  });

  it('answers an identity token, not a password, for an auths entry that holds one', async () => {
    // docker login writes the user with an empty password beside the token.
    const dockerConfigPath = await writeConfig({ auths: { '127.0.0.1:5000': { auth: Buffer.from('alice:').toString('base64'), identitytoken: 'refresh-1' } } });
    expect(await resolveRegistryCredentials('127.0.0.1:5000', { env: {}, dockerConfigPath })).toEqual({ identityToken: 'refresh-1' });
  });

  it('answers an identity token when a helper names the user "<token>"', async () => {
    const helper = join(dir, 'docker-credential-oauth');
    await writeFile(helper, '#!/bin/sh\nread host\necho \'{"Username":"<token>","Secret":"refresh-2"}\'\n');
    await chmod(helper, 0o755);
    const dockerConfigPath = await writeConfig({ credsStore: 'oauth' });
    expect(await resolveRegistryCredentials('x.example', { env: { PATH: `${dir}:${process.env['PATH']}` }, dockerConfigPath })).toEqual({ identityToken: 'refresh-2' });
  });

  it('runs docker-credential-<helper> from credHelpers, then credsStore', async () => {
    const helper = join(dir, 'docker-credential-fake');
    // The helper reads the host on stdin, as docker's protocol says.
    await writeFile(helper, '#!/bin/sh\nread host\nif [ "$host" = "unknown.example" ]; then echo "credentials not found" >&2; exit 1; fi\necho "{\\"Username\\":\\"u-$host\\",\\"Secret\\":\\"tok\\"}"\n');
    await chmod(helper, 0o755);
    const env = { PATH: `${dir}:${process.env['PATH']}` };
    const dockerConfigPath = await writeConfig({ credHelpers: { '127.0.0.1:6000': 'fake' }, credsStore: 'fake', auths: { '127.0.0.1:6000': { auth: 'eDp5' } } });
    expect(await resolveRegistryCredentials('127.0.0.1:6000', { env, dockerConfigPath })).toEqual({ username: 'u-127.0.0.1:6000', password: 'tok' });
    expect(await resolveRegistryCredentials('other.example', { env, dockerConfigPath })).toEqual({ username: 'u-other.example', password: 'tok' });
    expect(await resolveRegistryCredentials('unknown.example', { env, dockerConfigPath })).toBeUndefined();
  });

  it('reports a helper that is not installed, naming the program', async () => {
    const dockerConfigPath = await writeConfig({ credsStore: 'nonexistent' });
    await expect(resolveRegistryCredentials('x.example', { env: { PATH: dir }, dockerConfigPath })).rejects.toThrow('docker-credential-nonexistent');
  });
});
