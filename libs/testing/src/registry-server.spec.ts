import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startRegistry, type TestRegistry } from './registry-server';

describe('startRegistry', () => {
  let registries: TestRegistry[] = [];
  afterEach(async () => {
    await Promise.all(registries.map((registry) => registry.stop()));
    registries = [];
  });

  it('serves the distribution API anonymously', async () => {
    const registry = await startRegistry();
    registries.push(registry);
    const response = await fetch(`${registry.url}/v2/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });

  it('starts from a shell that exports REGISTRY_AUTH_FILE, as podman and buildah users do (the registry read it as an override of its config, refused to start, and so did every test and the demo)', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'cm-registry-env-'));
    // A process of its own: the variable must be in the real environment the registry inherits, which a test's process.env is not.
    const started = await execa(process.execPath, ['-r', '@swc-node/register', '-e', "require('./libs/testing/src/registry-server').startRegistry().then(async (registry) => { console.log((await fetch(`${registry.url}/v2/`)).status); await registry.stop(); })"], {
      cwd: join(__dirname, '../../..'),
      env: { TMPDIR: scratch, REGISTRY_AUTH_FILE: join(scratch, 'auth.json') },
      reject: false,
      all: true,
      stdin: 'ignore',
      timeout: 30_000,
    });
    await rm(scratch, { recursive: true, force: true });
    expect({ exitCode: started.exitCode, output: started.all }).toEqual({ exitCode: 0, output: '200' });
  }, 40_000);

  it('asks for Basic auth when given credentials and accepts only the right password', async () => {
    const credentials = { username: 'ci', password: 'correct horse battery' };
    const registry = await startRegistry({ credentials });
    registries.push(registry);
    const anonymous = await fetch(`${registry.url}/v2/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    const basic = (password: string) =>
      `Basic ${Buffer.from(`${credentials.username}:${password}`).toString('base64')}`;
    expect((await fetch(`${registry.url}/v2/`, { headers: { authorization: basic('wrong') } })).status).toBe(401);
    expect((await fetch(`${registry.url}/v2/`, { headers: { authorization: basic(credentials.password) } })).status).toBe(200);
  });

  it('dies with the process that started it, when that process is killed before it can stop it', async () => {
    // The killed process cannot remove the registry's directory: it goes in this test's own TMPDIR, removed below.
    const scratch = await mkdtemp(join(tmpdir(), 'cm-killed-starter-'));
    const starter = execa(process.execPath, ['-r', '@swc-node/register', '-e', "require('./libs/testing/src/registry-server').startRegistry().then((registry) => { console.log(registry.url); setInterval(() => undefined, 1000); })"], {
      cwd: join(__dirname, '../../..'),
      env: { TMPDIR: scratch },
      reject: false,
      stdin: 'ignore',
    });
    const url = await new Promise<string>((resolve) => starter.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
    expect((await fetch(`${url}/v2/`)).status).toBe(200);
    starter.kill('SIGKILL');
    await starter;
    const deadline = Date.now() + 5_000;
    let answering = true;
    while (answering && Date.now() < deadline) {
      answering = await fetch(`${url}/v2/`).then(() => true, () => false);
      if (answering) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await rm(scratch, { recursive: true, force: true });
    expect(answering).toBe(false);
  }, 30_000);
});
