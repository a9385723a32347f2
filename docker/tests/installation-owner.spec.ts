import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startGiteaServer, type TestGiteaServer } from '@changemaker/testing';
import { packageRelease, publish, scriptEnvironment, shellWord, throwawaySigningKey, workspaceRoot, writerToken } from './fixtures/releases';

/**
 * upgrade.sh in an installation another user owns, the mix a `sudo` out of habit makes: the files it
 * moves must be the user's own, or the swap (and any rollback) fails half-way. Needs root, for
 * runuser and chown; CI runs as root.
 */
(process.getuid?.() === 0 ? describe : describe.skip)("upgrade.sh and the installation's owner", () => {
  let scratch: string;
  let gitea: TestGiteaServer;
  let allowedSigners: string;
  let dir: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cm-owner-'));
    await chmod(scratch, 0o755);
    const signing = await throwawaySigningKey(join(scratch, 'keys'), 'release-key');
    allowedSigners = signing.allowedSigners;
    await chmod(join(scratch, 'keys'), 0o755);
    gitea = await startGiteaServer({ tokens: { [writerToken]: { login: 'releaser', canWrite: true } } });
    for (const tag of ['v1.0.0', 'v1.1.0']) await publish(gitea, tag, await packageRelease(tag, join(scratch, tag), { signingKey: signing.key }));
  });
  afterAll(async () => {
    await gitea?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  const env = () => scriptEnvironment({ GITEA_URL: gitea.url, GITEA_REPO: `${gitea.owner}/${gitea.repo}`, DOMAIN: 'example.org', ADMIN_EMAIL: 'ops@example.org' });
  const asRoot = (args: string[]) => execa('bash', args, { cwd: dir, env: env(), extendEnv: false, reject: false, input: '' });
  const asNobody = (args: string[], cwd = dir) => execa('runuser', ['-u', 'nobody', '--', 'bash', ...args], { cwd, env: env(), extendEnv: false, reject: false, input: '' });
  const upgradeScript = () => join(dir, 'scripts/upgrade.sh');
  const treeOf = async () => (await execa('sh', ['-c', 'find . -printf "%P %u %s\\n" | sort'], { cwd: dir })).stdout;

  beforeEach(async () => {
    const place = await mkdtemp(join(scratch, 'a server-'));
    // The script as the operator downloaded it: the checkout it is tested from may be private to root.
    await copyFile(join(workspaceRoot, 'docker/scripts/install.sh'), join(place, 'install.sh'));
    await execa('chown', ['-R', 'nobody', place]);
    dir = join(place, 'changemaker-lite');
    const installed = await asNobody([join(place, 'install.sh'), '--allowed-signers', allowedSigners, '--version', 'v1.0.0', '--dir', dir], place);
    expect({ exitCode: installed.exitCode, stderr: installed.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.0.0.tar.gz...' });
  });

  it("as root in nobody's installation: refused in one line, naming both ways on, before anything is downloaded or moved", async () => {
    const before = await treeOf();
    const requests = gitea.requests().length;
    const result = await asRoot([upgradeScript(), '--no-restart']);
    expect({ exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }).toEqual({
      exitCode: 1,
      stdout: '',
      stderr:
        `upgrade.sh: upgrade.sh runs as root in ${dir}, which belongs to nobody: the files it moves in would be root's, and nobody's next upgrade could not move them; ` +
        `run it as nobody (sudo -u nobody ${shellWord(join(dir, 'scripts/upgrade.sh'))}), or make the installation root's first (sudo chown -R root: ${shellWord(dir)}); nothing was changed`,
    });
    expect(await treeOf()).toBe(before);
    expect(gitea.requests().length).toBe(requests);

    // As its owner it upgrades, every file nobody's.
    const upgraded = await asNobody([upgradeScript(), '--no-restart']);
    expect(upgraded.exitCode).toBe(0);
    expect((await readFile(join(dir, 'VERSION'), 'utf8')).trim()).toBe('v1.1.0');
    expect((await stat(join(dir, 'docker-compose.yml'))).uid).toBe((await stat(dir)).uid);
  });

  it("as nobody, after a root run left shipped files and .rollback/ root's: refused before anything moves, naming them and the chown; after it, the upgrade goes on", async () => {
    await execa('chown', ['root', join(dir, 'VERSION'), join(dir, 'scripts'), join(dir, 'docker-compose.yml'), join(dir, 'config.sh')]);
    // The previous release's files, as a root run keeps them: the next upgrade deletes .rollback/ first.
    await mkdir(join(dir, '.rollback'));
    await copyFile(join(dir, 'docker-compose.yml'), join(dir, '.rollback/docker-compose.yml'));
    await mkdir(join(dir, 'data/postgres'), { recursive: true });
    // The containers' users own data/ and what is in it: never asked.
    await execa('chown', ['root', join(dir, 'data/postgres')]);
    const before = await treeOf();
    const refused = await asNobody([upgradeScript(), '--no-restart']);
    expect({ exitCode: refused.exitCode, stderr: refused.stderr }).toEqual({
      exitCode: 1,
      stderr:
        "upgrade.sh: files here are not nobody's: .rollback (root), .rollback/docker-compose.yml (root), VERSION (root) and 3 more, left by a run as another user (sudo); " +
        `a swap or rollback would fail half-way on them; make them yours (sudo chown -R nobody: ${shellWord(dir)}), then run upgrade.sh again; nothing was changed`,
    });
    expect(await treeOf()).toBe(before);

    await execa('chown', ['-R', 'nobody', dir]);
    const upgraded = await asNobody([upgradeScript(), '--no-restart']);
    expect(upgraded.exitCode).toBe(0);
    expect((await readFile(join(dir, 'VERSION'), 'utf8')).trim()).toBe('v1.1.0');
  });
});
