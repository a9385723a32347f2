import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { preflightRefusal, releasePreflight } from './release-preflight';

describe('the release preflight', () => {
  let dockerConfig: string;
  let scratch: string;
  let product: string;
  let keyFile: string;
  let trustLine: string;
  beforeAll(async () => {
    dockerConfig = await mkdtemp(join(tmpdir(), 'cm-preflight-'));
    scratch = await mkdtemp(join(tmpdir(), 'cm-preflight-product-'));
    product = join(scratch, 'docker');
    await mkdir(join(product, 'scripts'), { recursive: true });
    keyFile = join(scratch, 'release-key');
    await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'preflight', '-f', keyFile]);
    trustLine = `release@changemaker-lite ${(await readFile(`${keyFile}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ')}`;
    await trust({ allowedSigners: true, installScript: true });
  });
  afterAll(() => Promise.all([rm(dockerConfig, { recursive: true, force: true }), rm(scratch, { recursive: true, force: true })]));

  /** The product's two lists of trusted keys, each with or without the release key. */
  async function trust(lists: { allowedSigners: boolean; installScript: boolean }) {
    await writeFile(join(product, 'allowed_signers'), `# release keys\n${lists.allowedSigners ? `${trustLine}\n` : ''}`);
    await writeFile(join(product, 'scripts/install.sh'), `#!/usr/bin/env bash\nbaked_allowed_signers='\n${lists.installScript ? `${trustLine}\n` : ''}'\n`);
  }

  const settings = {
    GITEA_URL: 'https://gitea.example.org',
    GITEA_REPO: 'admin/changemaker.lite',
    GITEA_REGISTRY: 'gitea.example.org/admin',
    GITEA_REGISTRY_API_TOKEN: 'tok',
    GITEA_REGISTRY_USER: 'ci',
    GITEA_REGISTRY_PASSWORD: 'pw',
    get RELEASE_SIGNING_KEY_FILE() {
      return keyFile;
    },
  };
  const check = (env: Record<string, string>, options: { publishes?: boolean; dryRun?: boolean; registryOption?: string } = {}) =>
    releasePreflight({
      env: { DOCKER_CONFIG: dockerConfig, ...env },
      publishes: options.publishes ?? true,
      dryRun: options.dryRun ?? false,
      product: { name: 'docker', root: 'docker', path: product },
      registryOption: options.registryOption,
    });

  it('passes a release with every setting well-formed and every secret publishing needs', async () => {
    expect(await check(settings)).toEqual({ problems: [], notices: [] });
    expect(await check({ ...settings, GITEA_REGISTRY: '127.0.0.1:5000/admin', GITEA_REGISTRY_USER: '', GITEA_REGISTRY_PASSWORD: '' })).toEqual({ problems: [], notices: [] });
  });

  it("checks the plugin's registry option, where the images go, in GITEA_REGISTRY's place", async () => {
    expect(await check({ ...settings, GITEA_REGISTRY: 'admin' }, { registryOption: '127.0.0.1:5000/team' })).toEqual({ problems: [], notices: [] });
    // GITEA_REGISTRY's credentials are for GITEA_REGISTRY's host, not this one.
    expect((await check(settings, { registryOption: 'registry.example/team' })).problems).toEqual([
      'no credentials for the registry registry.example: docker login registry.example, or set GITEA_REGISTRY to registry.example/team with GITEA_REGISTRY_USER and GITEA_REGISTRY_PASSWORD; the images are pushed there.',
    ]);
    expect((await check(settings, { registryOption: 'https://registry.example/team' })).problems).toEqual([
      expect.stringMatching(/^the registry option \(the plugin options in nx\.json, or nx release publish --registry\) "https:\/\/registry\.example\/team" is not a registry host/),
    ]);
  });

  it.each([
    [{ GITEA_URL: 'ftp://127.0.0.1:9' }, 'GITEA_URL "ftp://127.0.0.1:9" is not an http(s) URL'],
    [{ GITEA_URL: 'https://admin:s3cret@gitea.example.org' }, 'GITEA_URL carries credentials'],
    [{ GITEA_REPO: 'bad' }, 'GITEA_REPO "bad" is not owner/name'],
    [{ GITEA_REGISTRY: 'https://gitea.example.org/admin' }, 'GITEA_REGISTRY "https://gitea.example.org/admin" is not a registry host[:port][/namespace]'],
    [{ GITEA_REGISTRY: 'admin' }, 'GITEA_REGISTRY "admin" is not a registry host[:port][/namespace]'],
    [{ GITEA_REGISTRY: '' }, 'GITEA_REGISTRY is set but empty: set it, or unset it to use the default gitea.bnkops.com/admin'],
    [{ GITEA_URL: '' }, 'GITEA_URL is set but empty'],
  ])('refuses %j, in a dry run too', async (change, problem) => {
    for (const dryRun of [false, true]) {
      const preflight = await check({ ...settings, ...change }, { dryRun });
      expect(preflight.problems).toEqual([expect.stringContaining(problem)]);
      expect(preflightRefusal(preflight)).toMatch(/^the release settings are not usable; nothing was written:\n {2}/);
    }
    expect(preflightRefusal(await check({ ...settings, GITEA_URL: 'https://admin:s3cret@gitea.example.org' }))).not.toContain('s3cret');
  });

  it('refuses a release that publishes without the token or the registry credentials; a dry run says so instead; a run that does not publish needs neither', async () => {
    const bare = { ...settings, GITEA_REGISTRY_API_TOKEN: '', GITEA_REGISTRY_USER: '', GITEA_REGISTRY_PASSWORD: '', RELEASE_SIGNING_KEY_FILE: '' };
    const real = await check(bare);
    expect(real.problems).toEqual([
      expect.stringContaining('GITEA_REGISTRY_API_TOKEN is not set'),
      expect.stringContaining('no credentials for the registry gitea.example.org'),
      expect.stringContaining('no release signing key: set RELEASE_SIGNING_KEY_FILE (a path) or RELEASE_SIGNING_KEY (the key); install.sh and upgrade.sh refuse an unsigned release'),
    ]);
    const dry = await check(bare, { dryRun: true });
    expect(dry).toEqual({ problems: [], notices: real.problems });
    expect(await check(bare, { publishes: false })).toEqual({ problems: [], notices: [] });
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { 'gitea.example.org': { auth: Buffer.from('ci:pw').toString('base64') } } }));
    expect((await check({ ...bare, GITEA_REGISTRY_API_TOKEN: 'tok', RELEASE_SIGNING_KEY_FILE: keyFile })).problems).toEqual([]);
  });

  it.each([
    [{ allowedSigners: false, installScript: true }, 'is not in docker/allowed_signers, so servers would refuse the release it signs'],
    [{ allowedSigners: true, installScript: false }, 'is not in baked_allowed_signers in docker/scripts/install.sh, so servers would refuse'],
    [{ allowedSigners: false, installScript: false }, 'is not in docker/allowed_signers or baked_allowed_signers in docker/scripts/install.sh'],
  ])('refuses a signing key the product does not trust (%j), in a dry run too, naming the line to add', async (lists, problem) => {
    await trust(lists);
    try {
      for (const dryRun of [false, true]) {
        const { problems } = await check(settings, { dryRun });
        expect(problems).toEqual([expect.stringContaining(problem)]);
        expect(problems[0]).toContain(`add the line "${trustLine}"`);
        expect(problems[0]).toMatch(/, commit, and run again \(README, "Signing keys"\)\.$/);
        expect(problems[0]).toContain(`the signing key from RELEASE_SIGNING_KEY_FILE (${keyFile})`);
      }
      expect(await check(settings, { publishes: false })).toEqual({ problems: [], notices: [] });
    } finally {
      await trust({ allowedSigners: true, installScript: true });
    }
  });

  it('refuses a signing key that cannot be read or used, naming where it came from and never showing it', async () => {
    expect((await check({ ...settings, RELEASE_SIGNING_KEY_FILE: join(scratch, 'absent') })).problems).toEqual([expect.stringContaining(`RELEASE_SIGNING_KEY_FILE=${join(scratch, 'absent')} cannot be read`)]);
    const { problems } = await check({ ...settings, RELEASE_SIGNING_KEY_FILE: '', RELEASE_SIGNING_KEY: 'not-a-key-Zq81' });
    expect(problems).toEqual([expect.stringContaining('signing with the key from RELEASE_SIGNING_KEY failed')]);
    expect(problems[0]).not.toContain('not-a-key-Zq81');
  });
});
