import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { runNx, startGiteaServer, type TestGiteaServer } from '@changemaker/testing';

const token = 'nx-e2e-token-5d8c1f0a';
const workspaceRoot = resolve(__dirname, '../../../../..');

/** The way CI calls it: `nx run docker:publish-release` with env, against the Gitea test server. */
describe('nx run docker:publish-release', () => {
  let gitea: TestGiteaServer;
  let inputDir: string;

  beforeAll(async () => {
    gitea = await startGiteaServer({ tokens: { [token]: { login: 'ci', canWrite: true } } });
    inputDir = await mkdtemp(join(tmpdir(), 'publish-release-nx-'));
    const tarball = randomBytes(32 * 1024);
    await writeFile(join(inputDir, 'changemaker-lite-v7.1.0.tar.gz'), tarball);
    await writeFile(join(inputDir, 'changemaker-lite-latest.tar.gz'), tarball);
    await writeFile(join(inputDir, 'release-manifest.json'), JSON.stringify({ version: '7.1.0', tag: 'v7.1.0', commit: null, images: [] }));
    const { stdout } = await execa('sha256sum', ['changemaker-lite-v7.1.0.tar.gz', 'changemaker-lite-latest.tar.gz', 'release-manifest.json'], { cwd: inputDir });
    await writeFile(join(inputDir, 'SHA256SUMS'), `${stdout}\n`);
  });

  afterAll(async () => {
    await gitea.stop();
    await rm(inputDir, { recursive: true, force: true });
  });

  const giteaEnv = () => ({ GITEA_URL: gitea.url, GITEA_REPO: 'admin/changemaker.lite', GITEA_REGISTRY_API_TOKEN: token });
  const nx = (...args: string[]) => runNx(workspaceRoot, ['run', 'docker:publish-release', `--input-dir=${inputDir}`, '--skip-nx-cache', '--exclude-task-dependencies', ...args], giteaEnv());

  // Runs first: the release below must not exist yet.
  it('refuses a mistyped option (--dryrun for --dry-run) before anything is sent to Gitea', async () => {
    const typo = await nx('--tag', 'v7.1.0', '--dryrun');
    expect(typo.exitCode).not.toBe(0);
    expect(typo.all).toContain("'dryrun' is not found in schema");
    const bogus = await nx('--bogus-opt');
    expect(bogus.exitCode).not.toBe(0);
    expect(bogus.all).toContain("'bogus-opt' is not found in schema");
    expect(gitea.releases()).toEqual([]);
    expect(gitea.requests().filter((request) => request.method !== 'GET')).toEqual([]);
  });

  it('through its package-release dependency, explains a numeric --tag with the tool\'s message, not a type error', async () => {
    // No --exclude-task-dependencies: package-release runs first and refuses the tag before writing anything.
    const numeric = await runNx(workspaceRoot, ['run', 'docker:publish-release', '--skip-nx-cache', '--tag', '1.2'], giteaEnv());
    // Nx 23 exits 130 (as if interrupted) whenever a dependency fails and this task never starts.
    expect(numeric.exitCode).not.toBe(0);
    expect(numeric.all).toContain('package-release: tag "1.2" is not a release tag; use v<semver>, e.g. --tag v1.2.3');
    expect(numeric.all).not.toContain('does not match the schema');
    expect(gitea.releases()).toEqual([]);
  });

  it('publishes with --json, then refuses the same tag, and never prints the token', async () => {
    const published = await nx('--json');
    expect(published.exitCode).toBe(0);
    // One JSON line among Nx's own lines on stdout: publish-release's report, none from package-release.
    const jsonLines = published.stdout.split('\n').filter((line) => line.startsWith('{'));
    expect(jsonLines).toHaveLength(1);
    const report = JSON.parse(jsonLines[0]!);
    expect(report).toMatchObject({ kind: 'create', tag: 'v7.1.0', draft: false });
    expect(gitea.releases().map((r) => [r.tagName, r.draft, r.attachments.length])).toEqual([['v7.1.0', false, 4]]);

    const again = await nx();
    expect(again.exitCode).not.toBe(0);
    expect(again.all).toContain('A release for v7.1.0 already exists');
    for (const output of [published.all, again.all]) expect(output).not.toContain(token);
    expect(gitea.violations()).toEqual([]);
  });
});
