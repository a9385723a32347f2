import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { execa } from 'execa';
import runExecutor, { productionStageIn } from './executor';
import type { DockerBuildPushOptions } from './schema';

const context = { root: '/nonexistent', cwd: '/nonexistent', isVerbose: false, projectName: 'api', targetName: 'docker-push', projectsConfigurations: { version: 2, projects: {} }, nxJsonConfiguration: {} } as unknown as ExecutorContext;

/** The executor's failure lines, with GITEA_REGISTRY set to `registry`. */
async function failureWith(registry: string, options: Partial<DockerBuildPushOptions> = {}): Promise<{ success: boolean; errors: string[] }> {
  const errors: string[] = [];
  const error = jest.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
  const saved = process.env['GITEA_REGISTRY'];
  process.env['GITEA_REGISTRY'] = registry;
  try {
    const { success } = await runExecutor({ push: true, tags: ['{sha}'], ...options } as DockerBuildPushOptions, context);
    return { success, errors };
  } finally {
    if (saved === undefined) delete process.env['GITEA_REGISTRY'];
    else process.env['GITEA_REGISTRY'] = saved;
    error.mockRestore();
  }
}

describe('docker-build-push', () => {
  it.each([
    ['127.0.0.1:99999/admin', /port 99999 .* is not a TCP port/],
    ['http://127.0.0.1:5000/admin', /with no scheme/],
    ['127.0.0.1:5000/Admin', /has capitals after the host, which no image name may have; Gitea finds an owner by its name in lowercase too: set it to 127\.0\.0\.1:5000\/admin$/],
    ['127.0.0.1:5000/Admin/Bad Name', /"Admin" is not a valid name component/],
  ])('refuses GITEA_REGISTRY=%s in one line naming it, before anything else', async (registry, problem) => {
    const { success, errors } = await failureWith(registry);
    expect(success).toBe(false);
    expect(errors).toEqual([expect.stringMatching(new RegExp(`^api: GITEA_REGISTRY "${registry.replace(/[.:/]/g, '\\$&')}" `))]);
    expect(errors[0]).toMatch(problem);
  });

  it('refuses a GITEA_REGISTRY set but empty, which would push to the public default with the registry credentials', async () => {
    const { success, errors } = await failureWith('');
    expect(success).toBe(false);
    expect(errors).toEqual(['api: GITEA_REGISTRY is set but empty: set it, or unset it to use the default gitea.bnkops.com/admin']);
  });

  it('names --registry when the option gave it', async () => {
    const { errors } = await failureWith('127.0.0.1:5000/admin', { registry: 'nohost' });
    expect(errors).toEqual([expect.stringMatching(/^api: --registry "nohost" is not a registry host/)]);
  });

  it('refuses --tag, --otp and --access outside nx release publish, which alone passes them: --tags gives image tags', async () => {
    const { success, errors } = await failureWith('127.0.0.1:5000/admin', { tag: 'v1.2.3' } as Partial<DockerBuildPushOptions>);
    expect(success).toBe(false);
    expect(errors).toEqual(["api: --tag is set by nx release publish and not used here; give an image's tags with --tags, e.g. --tags='{sha}' --tags=v1.2.3"]);
    const fromRelease = await failureWith('127.0.0.1:99999/admin', { tag: 'next', releaseVersionFile: 'docker/VERSION' } as Partial<DockerBuildPushOptions>);
    expect(fromRelease.errors).toEqual([expect.stringMatching(/GITEA_REGISTRY "127\.0\.0\.1:99999\/admin" is not a registry host/)]);
  });
});

/**
 * nx release publish --dry-run runs no preflight: its image tasks say what nx release's preflight
 * says of the signing key, before any plan: a missing key is a notice, an untrusted one a refusal.
 */
describe("docker-build-push as an image task of nx release publish --dry-run: the signing key", () => {
  let root: string;
  let trustedKey: string;
  let otherKey: string;
  const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: root });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cm-image-task-signing-'));
    const keyFile = async (name: string) => {
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(root, name)]);
      return join(root, name);
    };
    [trustedKey, otherKey] = await Promise.all([keyFile('release-key'), keyFile('other-key')]);
    const line = `release@changemaker-lite ${(await readFile(`${trustedKey}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ')}`;
    await mkdir(join(root, 'apps/api'), { recursive: true });
    await mkdir(join(root, 'docker/scripts'), { recursive: true });
    await writeFile(join(root, 'apps/api/Dockerfile'), 'FROM scratch\n');
    await writeFile(join(root, 'docker/VERSION'), 'v1.1.0\n');
    await writeFile(join(root, 'docker/allowed_signers'), `${line}\n`);
    await writeFile(join(root, 'docker/scripts/install.sh'), `#!/usr/bin/env bash\nbaked_allowed_signers='\n${line}\n'\n`);
    await git('init', '-q', '-b', 'main');
    await git('add', 'apps', 'docker');
    await git('commit', '-qm', 'chore(release): v1.1.0');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  /** The task's lines, with the signing key given by `key` (none: unset); the registry is not asked (--no-registry-cache). */
  async function dryRunWith(key: string | undefined, inherited: Record<string, string> = {}): Promise<{ success: boolean; out: string[]; errors: string[] }> {
    const out: string[] = [];
    const errors: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void out.push(String(line)));
    const error = jest.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
    const env = { GITEA_REGISTRY: '127.0.0.1:9/admin', RELEASE_SIGNING_KEY_FILE: key ?? '', RELEASE_SIGNING_KEY: '', ...inherited };
    const saved = Object.keys(env).map((name) => [name, process.env[name]] as const);
    Object.assign(process.env, env);
    const release = { ...context, root, cwd: root, targetName: 'nx-release-publish', projectsConfigurations: { version: 2, projects: { api: { root: 'apps/api' } } } } as unknown as ExecutorContext;
    try {
      const options = { push: true, engine: 'auto', imageName: 'changemaker-{projectName}', tags: ['{sha}', 'latest', 'v{version}'], buildArgs: {}, platforms: [], registryCache: false, cache: true, dryRun: true, releaseVersionFile: 'docker/VERSION' };
      const { success } = await runExecutor(options as unknown as DockerBuildPushOptions, release);
      return { success, out, errors };
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      log.mockRestore();
      error.mockRestore();
    }
  }

  it('goes on without a key, saying a real release would stop for it, as the preflight of nx release --dry-run does', async () => {
    const { success, out, errors } = await dryRunWith(undefined);
    expect(errors).toEqual([]);
    expect(success).toBe(true);
    expect(out[0]).toBe('dry run: a real release would stop here: no release signing key: set RELEASE_SIGNING_KEY_FILE (a path) or RELEASE_SIGNING_KEY (the key); install.sh and upgrade.sh refuse an unsigned release on every server (README, "Signing keys").');
    expect(out[1]).toMatch(/^dry run: 127\.0\.0\.1:9\/admin\/changemaker-api \[.*v1\.1\.0\]: build \(the inputs lookup is off/);
  });

  it('leaves the missing key to the line nx release --dry-run already printed, rather than one more per image', async () => {
    const { success, out } = await dryRunWith(undefined, { NX_RELEASE_STOP_NOTICES_SHOWN: 'true' });
    expect(success).toBe(true);
    expect(out).toEqual([expect.stringMatching(/^dry run: 127\.0\.0\.1:9\/admin\/changemaker-api \[.*v1\.1\.0\]: build/)]);
  });

  it('refuses a key the product does not trust, in one line naming the lists and the line to add, without planning anything', async () => {
    const { success, out, errors } = await dryRunWith(otherKey);
    expect(success).toBe(false);
    expect(out).toEqual([]);
    expect(errors).toEqual([
      expect.stringContaining(`api: nothing was pushed under v1.1.0 and no Gitea release was made: the signing key from RELEASE_SIGNING_KEY_FILE (${otherKey}) is not in docker/allowed_signers or baked_allowed_signers in docker/scripts/install.sh`),
    ]);
    expect(errors[0]).toMatch(/^api: /);
    expect(errors[0]).toMatch(/add the line "release@changemaker-lite ssh-ed25519 AAAA\S+" to docker\/allowed_signers and baked_allowed_signers/);
    expect(errors[0]).not.toContain('PRIVATE KEY');
  });

  it('plans quietly with the trusted key', async () => {
    const { success, out } = await dryRunWith(trustedKey);
    expect(success).toBe(true);
    expect(out).toEqual([expect.stringMatching(/^dry run: .*changemaker-api \[.*v1\.1\.0\]: build /)]);
  });
});

describe('the production stage, built when no --target is given', () => {
  it.each([
    ['FROM node:20 AS production'],
    ['from node:20 as production'],
    ['FROM --platform=$BUILDPLATFORM node:20 AS production'],
    ['  FROM --platform=linux/amd64 node:20-bookworm-slim   AS   production  '],
    ['FROM --platform=${BUILDPLATFORM} node:20 AS production'],
  ])('is found in "%s"', (line) => {
    expect(productionStageIn(`FROM node:20 AS development\nRUN true\n${line}\nCMD ["node"]\n`)).toBe('production');
  });

  it.each([
    ['FROM node:20 AS development'],
    ['FROM --platform=$BUILDPLATFORM node:20 AS production-tools'],
    ['FROM node:20'],
    ['# FROM node:20 AS production'],
  ])('is not in a Dockerfile whose only stage line is "%s" (the last stage is built)', (line) => {
    expect(productionStageIn(`${line}\nCMD ["node"]\n`)).toBeUndefined();
  });
});

/** `latest` names the newest image of the branch it follows, nx.json's defaultBase (main by default), not the last one pushed from anywhere. */
describe("docker-push's latest tag", () => {
  let root: string;
  const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: root }).then((result) => result.stdout);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cm-latest-branch-'));
    await mkdir(join(root, 'apps/api'), { recursive: true });
    await writeFile(join(root, 'apps/api/Dockerfile'), 'FROM scratch\n');
    await git('init', '-q', '-b', 'main');
    await git('add', 'apps');
    await git('commit', '-qm', 'api');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  /** The dry run's lines for `nx run api:docker-push` with the default tags; the registry is not asked (--no-registry-cache). */
  async function dryRun(nxJsonConfiguration: object = {}): Promise<string[]> {
    const out: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void out.push(String(line)));
    const saved = process.env['GITEA_REGISTRY'];
    process.env['GITEA_REGISTRY'] = '127.0.0.1:9/admin';
    const push = { ...context, root, cwd: root, nxJsonConfiguration, projectsConfigurations: { version: 2, projects: { api: { root: 'apps/api' } } } } as unknown as ExecutorContext;
    try {
      const options = { push: true, engine: 'auto', imageName: 'changemaker-{projectName}', tags: ['{sha}', 'latest'], buildArgs: {}, platforms: [], registryCache: false, cache: true, dryRun: true };
      expect((await runExecutor(options as unknown as DockerBuildPushOptions, push)).success).toBe(true);
      return out;
    } finally {
      if (saved === undefined) delete process.env['GITEA_REGISTRY'];
      else process.env['GITEA_REGISTRY'] = saved;
      log.mockRestore();
    }
  }
  const tagsOf = (lines: string[]) => /changemaker-api \[([^\]]*)\]/.exec(lines.join('\n'))?.[1];

  it('moves from main, and from a detached HEAD at the commit a remote-tracking main names (a CI checkout)', async () => {
    const sha = await git('rev-parse', 'HEAD');
    expect(tagsOf(await dryRun())).toBe(`${sha}, latest`);
    await git('update-ref', 'refs/remotes/origin/main', sha);
    await git('checkout', '-q', '--detach');
    try {
      expect(tagsOf(await dryRun())).toBe(`${sha}, latest`);
    } finally {
      await git('checkout', '-q', 'main');
    }
  });

  it('stays where it is for a commit on another branch, or an older commit checked out, saying so in one line', async () => {
    await git('switch', '-q', '-c', 'feat/x');
    await git('commit', '-q', '--allow-empty', '-m', 'feat: an experiment');
    try {
      const lines = await dryRun();
      const sha = await git('rev-parse', 'HEAD');
      expect(tagsOf(lines)).toBe(sha);
      expect(lines).toContain("127.0.0.1:9/admin/changemaker-api: latest stays where it is: this commit is on feat/x, not on main, the branch latest follows (nx.json's defaultBase); the image goes under its other tags");
      await git('checkout', '-q', '--detach');
      expect((await dryRun()).join('\n')).toContain(`latest stays where it is: this commit is a detached HEAD (${sha.slice(0, 12)}) that no remote's main names, not on main`);
    } finally {
      await git('checkout', '-q', 'main');
    }
  });

  it("follows the branch nx.json's defaultBase names", async () => {
    expect((await dryRun({ defaultBase: 'trunk' })).join('\n')).toContain('latest stays where it is: this commit is on main, not on trunk');
  });
});
