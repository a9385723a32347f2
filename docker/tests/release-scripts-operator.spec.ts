import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { signWithKey, type SigningKey } from '@changemaker/release-bundle';
import { startGiteaServer, type TestGiteaServer } from '@changemaker/testing';
import { packageRelease, publish, scriptEnvironment, shellWord, throwawaySigningKey, workspaceRoot, writerToken } from './fixtures/releases';

/**
 * What an operator runs into on a server and a security reviewer asks about: the shell that runs the
 * scripts, a token under `bash -x`, a full disk, a release tag the upgrade cannot order.
 */
const installScript = join(workspaceRoot, 'docker/scripts/install.sh');
const readerToken = 'gitea-reader-4f61c2';

/** The files under `dir` and their contents: what a refusal must leave as it was. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    files[path.slice(dir.length + 1)] = entry.isFile() ? await readFile(path, 'utf8') : '<dir>';
  }
  return files;
}

describe('install.sh and upgrade.sh as an operator runs them', () => {
  let scratch: string;
  let gitea: TestGiteaServer;
  let signingKey: SigningKey;
  let allowedSigners: string;
  let place: string;

  /**
   * A signed release of VERSION alone, for a tag package-release would not cut; `prepare` may add to
   * the tree, and `tarOptions` say how tar records it.
   */
  async function addBareRelease(tag: string, firstId: number, prepare?: (root: string) => Promise<void>, tarOptions: string[] = []): Promise<void> {
    const tree = join(scratch, `bare-${firstId}`);
    await mkdir(join(tree, 'changemaker-lite'), { recursive: true });
    await writeFile(join(tree, 'changemaker-lite/VERSION'), `${tag}\n`);
    await prepare?.(join(tree, 'changemaker-lite'));
    await execa('tar', ['-czf', join(tree, 'bundle.tar.gz'), ...tarOptions, '-C', tree, 'changemaker-lite']);
    const tarball = await readFile(join(tree, 'bundle.tar.gz'));
    const sums = Buffer.from(`${createHash('sha256').update(tarball).digest('hex')}  changemaker-lite-${tag}.tar.gz\n`);
    const attachment = (id: number, name: string, bytes: Buffer) => ({ id, uuid: `bare-${id}`, name, bytes, createdAt: new Date().toISOString() });
    gitea.addRelease({
      tagName: tag,
      prerelease: true,
      attachments: [
        attachment(firstId, `changemaker-lite-${tag}.tar.gz`, tarball),
        attachment(firstId + 1, 'SHA256SUMS', sums),
        attachment(firstId + 2, 'SHA256SUMS.sig', await signWithKey(signingKey, sums)),
      ],
    });
  }

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cm-operator-'));
    ({ key: signingKey, allowedSigners } = await throwawaySigningKey(join(scratch, 'keys'), 'release-key'));
    gitea = await startGiteaServer({
      tokens: { [writerToken]: { login: 'releaser', canWrite: true }, [readerToken]: { login: 'server', canWrite: false } },
    });
    await publish(gitea, 'v1.0.0', await packageRelease('v1.0.0', join(scratch, 'v1.0.0'), { signingKey }));
    // A tag find_release takes (v<semver-ish>) but semver_compare cannot order: two `+`.
    await addBareRelease('v1.2.3+a+b', 9301);
    await addBareRelease('v1.2.3+b', 9304);
    // Packed carelessly: another user's files, world-writable, a setuid script.
    const careless = async (root: string) => {
      await mkdir(join(root, 'scripts'));
      await writeFile(join(root, 'scripts/run.sh'), '#!/bin/sh\n');
      await chmod(join(root, 'scripts/run.sh'), 0o4777);
      await chmod(join(root, 'scripts'), 0o777);
      await chmod(join(root, 'VERSION'), 0o666);
    };
    await addBareRelease('v1.3.0', 9307, careless, ['--owner=4242', '--group=4242', '--numeric-owner']);
  });
  afterAll(async () => {
    await gitea?.stop();
    await rm(scratch, { recursive: true, force: true });
  });
  beforeEach(async () => {
    place = await mkdtemp(join(scratch, 'a server-'));
  });
  afterEach(() => expect(gitea.violations()).toEqual([]));

  const env = (extra: Record<string, string> = {}) =>
    scriptEnvironment({ GITEA_URL: gitea.url, GITEA_REPO: `${gitea.owner}/${gitea.repo}`, DOMAIN: 'example.org', ADMIN_EMAIL: 'ops@example.org', ...extra });
  const run = (command: string, args: string[], cwd: string, extra: Record<string, string> = {}, input = '') =>
    execa(command, args, { cwd, env: env(extra), extendEnv: false, reject: false, input });

  async function installed(): Promise<string> {
    const dir = join(place, 'changemaker-lite');
    const result = await run('bash', [installScript, '--allowed-signers', allowedSigners, '--version', 'v1.0.0', '--dir', dir], place);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.0.0.tar.gz...' });
    return dir;
  }

  it('run by sh (dash), or piped into it, says in one line that bash runs it, and changes nothing', async () => {
    const line = 'install.sh: needs bash 4.4 or newer, and this is not bash; run it with bash (bash install.sh, or curl ... | bash); nothing was changed';
    const dir = join(place, 'changemaker-lite');
    expect(await run('sh', [installScript, '--allowed-signers', allowedSigners, '--dir', dir], place)).toMatchObject({ exitCode: 1, stdout: '', stderr: line });
    const piped = await run('sh', ['-s', '--', '--allowed-signers', allowedSigners, '--dir', dir], place, {}, await readFile(installScript, 'utf8'));
    expect(piped).toMatchObject({ exitCode: 1, stdout: '', stderr: line });
    expect(await readdir(place)).toEqual([]);

    const installedDir = await installed();
    const before = await snapshot(installedDir);
    const upgrade = await run('sh', [join(installedDir, 'scripts/upgrade.sh'), '--no-restart'], installedDir);
    expect(upgrade).toMatchObject({
      exitCode: 1,
      stdout: '',
      stderr: 'upgrade.sh: needs bash 4.4 or newer, and this is not bash; run it with bash: bash scripts/upgrade.sh; nothing was changed',
    });
    expect(await snapshot(installedDir)).toEqual(before);
  });

  it('piped into bash cut short between two functions (a download that dropped), says so instead of ending with 0 and nothing done', async () => {
    const script = await readFile(installScript, 'utf8');
    const cut = script.slice(0, script.indexOf('\ninstall_main() {') + 1);
    const result = await run('bash', ['-s', '--', '--allowed-signers', allowedSigners], place, {}, cut);
    expect(result).toMatchObject({
      exitCode: 1,
      stdout: '',
      stderr: 'install.sh: the script ended before its last line, so it arrived cut short (a dropped download?); nothing was installed; download it again',
    });
    expect(await readdir(place)).toEqual([]);
  });

  it('traced with bash -x, as an operator chasing a failure runs it, never shows the token', async () => {
    const dir = join(place, 'changemaker-lite');
    const traced = await run('bash', ['-x', installScript, '--allowed-signers', allowedSigners, '--version', 'v1.0.0', '--dir', dir, '--no-config'], place, {
      GITEA_REGISTRY_API_TOKEN: readerToken,
    });
    expect(traced.exitCode).toBe(0);
    // The trace is there (the lookup's URL), and every request carried the token.
    expect(traced.stderr).toContain(`${gitea.url}/api/v1/repos/`);
    expect(traced.stderr).not.toContain(readerToken);
    expect(gitea.requests().slice(-4).every((request) => request.authorization === `token ${readerToken}`)).toBe(true);
  });

  it('a token with a stray carriage return (from a CRLF file) or line break is refused in one line, unshown, before any request', async () => {
    const before = gitea.requests().length;
    const line = 'install.sh: GITEA_REGISTRY_API_TOKEN holds a space, a line break (a carriage return from a CRLF file?), a quote or a backslash, which no Gitea token has; set it to the token alone';
    for (const token of [`${readerToken}\r`, `${readerToken}\noutput = ${join(place, 'written')}`, `"${readerToken}"`]) {
      const result = await run('bash', ['-x', installScript, '--allowed-signers', allowedSigners, '--dir', join(place, 'changemaker-lite')], place, { GITEA_REGISTRY_API_TOKEN: token });
      // Traced (-x), so that the check itself is seen not to show the token: the line is among the trace's.
      expect({ exitCode: result.exitCode, refusal: result.stderr.split('\n').filter((text) => text.startsWith('install.sh: ')) }).toEqual({ exitCode: 1, refusal: [line] });
      expect(result.stderr).not.toContain(readerToken);
    }
    expect(gitea.requests().length).toBe(before);
    expect(await readdir(place)).toEqual([]);
  });

  it('a GITEA_URL with a query (Gitea reads ?token=) or a fragment, and a GITEA_REPO that is no owner/name, are refused unshown before any request', async () => {
    const before = gitea.requests().length;
    const install = (extra: Record<string, string>) => run('bash', [installScript, '--allowed-signers', allowedSigners, '--dir', join(place, 'changemaker-lite'), '--dry-run'], place, extra);
    const badUrl = 'install.sh: GITEA_URL holds a query (?...), a fragment (#...) or a space; set it to the Gitea\'s address alone, like https://gitea.example.com, and a token in GITEA_REGISTRY_API_TOKEN';
    for (const url of [`${gitea.url}/?token=${readerToken}`, `${gitea.url}/#${readerToken}`]) {
      expect(await install({ GITEA_URL: url })).toMatchObject({ exitCode: 1, stdout: '', stderr: badUrl });
    }
    const badRepo = 'install.sh: GITEA_REPO is not owner/name (letters, digits, -, _ and .); set it like admin/changemaker.lite';
    for (const repo of [`${gitea.owner}/${gitea.repo}?token=${readerToken}`, `${gitea.owner}/../../users/search`, `${gitea.url}/${gitea.owner}/${gitea.repo}`]) {
      expect(await install({ GITEA_REPO: repo })).toMatchObject({ exitCode: 1, stdout: '', stderr: badRepo });
    }
    expect(gitea.requests().length).toBe(before);
    // Trailing slashes are only dropped.
    expect(await install({ GITEA_URL: `${gitea.url}//` })).toMatchObject({
      exitCode: 0,
      stdout: `would install v1.0.0 from ${gitea.url} (${gitea.owner}/${gitea.repo}) into ${join(place, 'changemaker-lite')} and run config.sh`,
    });
    expect(await readdir(place)).toEqual([]);
  });

  it('--version without its v (1.0.0 for v1.0.0) is answered with the tag to pass', async () => {
    const line = `no release 1.0.0 in ${gitea.owner}/${gitea.repo} on ${gitea.url}; release tags start with v: pass --version v1.0.0`;
    const fresh = await run('bash', [installScript, '--allowed-signers', allowedSigners, '--version', '1.0.0', '--dir', join(place, 'changemaker-lite')], place);
    expect(fresh).toMatchObject({ exitCode: 1, stderr: `install.sh: ${line}` });
    expect(await readdir(place)).toEqual([]);
    const dir = await installed();
    const upgrade = await run('bash', [join(dir, 'scripts/upgrade.sh'), '--version', '1.0.0', '--no-restart'], dir);
    expect(upgrade).toMatchObject({ exitCode: 1, stderr: `upgrade.sh: ${line}` });
  });

  it('upgrade.sh run through a symlink works on the installation the link points into', async () => {
    const dir = await installed();
    const link = join(place, 'changemaker-upgrade');
    await symlink(join(dir, 'scripts/upgrade.sh'), link);
    expect(await run('bash', [link, '--no-restart'], place)).toMatchObject({ exitCode: 0, stdout: 'already on v1.0.0; no update available', stderr: '' });
  });

  it('a move that fails half-way through the swap (a full disk, a busy mount) says so in one line naming the rollback, which restores the files', async () => {
    const dir = await installed();
    const before = await snapshot(dir);
    const bin = join(place, 'bin');
    await mkdir(bin);
    const realMv = (await execa('bash', ['-c', 'command -v mv'])).stdout;
    await writeFile(join(bin, 'mv'), `#!/bin/bash\nif [ "$*" = 'configs .rollback/configs' ]; then echo 'mv: cannot move: Device or resource busy' >&2; exit 1; fi\nexec '${realMv}' "$@"\n`, { mode: 0o755 });
    await addBareRelease('v1.0.1', 9310, async (root) => {
      await mkdir(join(root, 'configs'));
      await writeFile(join(root, 'configs/new.conf'), 'new\n');
    });
    try {
      const result = await run('bash', [join(dir, 'scripts/upgrade.sh'), '--version', 'v1.0.1', '--no-restart'], dir, { PATH: `${bin}:${process.env['PATH']}` });
      const rollback = `bash ${shellWord(`${dir}/scripts/upgrade.sh`)} --rollback`;
      expect({ exitCode: result.exitCode, stderr: result.stderr.split('\n').slice(-2) }).toEqual({
        exitCode: 1,
        stderr: [
          'mv: cannot move: Device or resource busy',
          `upgrade.sh: moving the files failed half-way (see above); the new release's files are in place, or some of them, and the previous ones are in .rollback/; ${rollback} puts them back`,
        ],
      });
      const back = await run('bash', [join(dir, 'scripts/upgrade.sh'), '--rollback', '--no-restart'], dir);
      expect(back).toMatchObject({ exitCode: 0, stdout: 'returned from an upgrade stopped half-way to v1.0.0', stderr: '' });
      expect(await snapshot(dir)).toEqual(before);
    } finally {
      gitea.releases().splice(gitea.releases().findIndex((release) => release.tagName === 'v1.0.1'), 1);
    }
  });

  it('an upgrade of an installation config.sh never ran in (no .env) is refused before anything is downloaded or moved', async () => {
    const dir = join(place, 'changemaker-lite');
    const installedOnly = await run('bash', [installScript, '--allowed-signers', allowedSigners, '--version', 'v1.0.0', '--dir', dir, '--no-config'], place);
    expect(installedOnly.exitCode).toBe(0);
    const before = await snapshot(dir);
    const downloads = () => gitea.requests().filter((request) => !request.url.startsWith('/api/')).length;
    const downloadsBefore = downloads();
    const refusal = `upgrade.sh: ${dir}/.env is missing: config.sh has not been run here; run it first (cd ${shellWord(dir)} && bash config.sh), then upgrade; nothing was changed`;
    for (const dryRun of [[], ['--dry-run']]) {
      const result = await run('bash', [join(dir, 'scripts/upgrade.sh'), '--version', 'v1.2.3+b', '--no-restart', ...dryRun], dir);
      expect(result).toMatchObject({ exitCode: 1, stdout: 'upgrade available: v1.0.0 -> v1.2.3+b', stderr: refusal });
    }
    expect(downloads()).toBe(downloadsBefore);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a token bound for a plain-http Gitea elsewhere than this machine is warned about; on loopback, or without a token, nothing is said', async () => {
    // A GITEA_STALL_SECONDS that is refused right after the warning: the script stops before any request leaves.
    const stops = { GITEA_STALL_SECONDS: 'never', GITEA_REGISTRY_API_TOKEN: readerToken };
    const refusal = "install.sh: GITEA_STALL_SECONDS='never' is not a whole number of seconds; set it like 60, or unset it";
    const warning = "install.sh: WARNING: GITEA_URL is plain http: the token in GITEA_REGISTRY_API_TOKEN crosses the network unencrypted; use the Gitea's https:// address";
    const install = (extra: Record<string, string>) => run('bash', [installScript, '--allowed-signers', allowedSigners, '--dry-run'], place, { ...stops, ...extra });
    expect(await install({ GITEA_URL: 'http://gitea.example.com:3000' })).toMatchObject({ exitCode: 1, stderr: `${warning}\n${refusal}` });
    expect(await install({ GITEA_URL: 'https://gitea.example.com' })).toMatchObject({ exitCode: 1, stderr: refusal });
    expect(await install({ GITEA_URL: 'http://gitea.example.com', GITEA_REGISTRY_API_TOKEN: '' })).toMatchObject({ exitCode: 1, stderr: refusal });
    for (const url of [gitea.url, 'http://localhost:3000', 'http://[::1]:3000', 'http://[::1]']) {
      expect(await install({ GITEA_URL: url })).toMatchObject({ exitCode: 1, stderr: refusal });
    }
  });

  it('upgrade.sh run by a user who may not write in the installation (sudo forgotten) says so in one line, changing nothing', async () => {
    const dir = await installed();
    const before = await snapshot(dir);
    // mktemp refusing as it does for that user; root, who runs the tests here, may write anywhere.
    const bin = join(place, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'mktemp'), '#!/bin/sh\necho "mktemp: failed to create directory via template: Permission denied" >&2\nexit 1\n', { mode: 0o755 });
    const user = (await execa('id', ['-un'])).stdout;
    const result = await run('bash', [join(dir, 'scripts/upgrade.sh'), '--no-restart'], dir, { PATH: `${bin}:${process.env['PATH']}` });
    expect(result).toMatchObject({ exitCode: 1, stderr: `upgrade.sh: cannot write in ${dir} as ${user}; run upgrade.sh as the user the installation belongs to (sudo?); nothing was changed` });
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a download that cannot be written (a full disk) is named as such, not as an unreachable Gitea, and leaves nothing', async () => {
    const dir = join(place, 'changemaker-lite');
    // A file size limit of 20 KiB fails the write of the ~32 KiB tarball as a full disk does (EFBIG
    // rather than ENOSPC; curl reports both as its error 23), with SIGXFSZ ignored as a shell would.
    const script = `trap '' XFSZ; ulimit -f 20; exec bash "$@"`;
    const result = await run('bash', ['-c', script, 'limited', installScript, '--allowed-signers', allowedSigners, '--version', 'v1.0.0', '--dir', dir], place);
    expect(result).toMatchObject({
      exitCode: 1,
      stderr: `downloading changemaker-lite-v1.0.0.tar.gz...\ninstall.sh: cannot write the download into ${place} (Failure writing output to destination); is the disk full? free some space there (df -h) and run it again; nothing was changed`,
    });
    expect(await readdir(place)).toEqual([]);
  });

  it("an ssh-keygen too old to check signatures (OpenSSH before 8.1: RHEL 8's 8.0) is named as such before any download, not as a bad signature", async () => {
    // OpenSSH 8.0's ssh-keygen, which has no -Y, as its getopt answers it (this machine's is newer).
    const bin = join(place, '.old-openssh');
    await mkdir(bin);
    await writeFile(join(bin, 'ssh-keygen'), '#!/bin/sh\nfor arg; do [ "$arg" = -Y ] && { echo "unknown option -- Y" >&2; echo "usage: ssh-keygen [-q] [-b bits] [-C comment] [-f output_keyfile]" >&2; exit 1; }; done\nexec /usr/bin/ssh-keygen "$@"\n');
    await chmod(join(bin, 'ssh-keygen'), 0o755);
    const PATH = `${bin}:${process.env['PATH']}`;
    const line = "this machine's ssh-keygen cannot check release signatures: ssh-keygen -Y verify needs OpenSSH 8.1 or newer; upgrade the OpenSSH client (the openssh-client package, openssh on RHEL), then run it again; nothing was changed";
    const dir = join(place, 'changemaker-lite');
    const requestsBefore = gitea.requests().length;
    const result = await run('bash', [installScript, '--allowed-signers', allowedSigners, '--version', 'v1.0.0', '--dir', dir], place, { PATH });
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 1, stderr: `install.sh: ${line}` });
    expect(gitea.requests().length).toBe(requestsBefore);
    expect(await readdir(place)).toEqual(['.old-openssh']);

    const installedDir = await installed();
    const upgrade = await run('bash', [join(installedDir, 'scripts/upgrade.sh'), '--dry-run'], installedDir, { PATH });
    expect({ exitCode: upgrade.exitCode, stderr: upgrade.stderr }).toEqual({ exitCode: 1, stderr: `upgrade.sh: ${line}` });
  });

  it('an upgrade to a tag it cannot order as a version is refused in one line, changing nothing (no unchecked upgrade)', async () => {
    const dir = await installed();
    const before = await snapshot(dir);
    const result = await run('bash', [join(dir, 'scripts/upgrade.sh'), '--version', 'v1.2.3+a+b', '--no-restart'], dir);
    expect(result).toMatchObject({
      exitCode: 1,
      stdout: '',
      stderr: "upgrade.sh: 'v1.2.3+a+b' is not a version like v1.2.3; releases must be tagged vMAJOR.MINOR.PATCH",
    });
    expect(await snapshot(dir)).toEqual(before);
  });

  it('installs the files as the installing user\'s, writable by nobody else and setuid nowhere, whatever owners and modes the tarball records', async () => {
    const dir = join(place, 'changemaker-lite');
    const result = await run('bash', [installScript, '--allowed-signers', allowedSigners, '--version', 'v1.3.0', '--dir', dir, '--no-config'], place);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.3.0.tar.gz...' });
    const seen: Record<string, { uid: number; mode: string }> = {};
    for (const path of ['VERSION', 'scripts', 'scripts/run.sh']) {
      const { uid, mode } = await stat(join(dir, path));
      seen[path] = { uid, mode: (mode & 0o7777).toString(8) };
    }
    const uid = process.getuid!();
    expect(seen).toEqual({ VERSION: { uid, mode: '644' }, scripts: { uid, mode: '755' }, 'scripts/run.sh': { uid, mode: '755' } });
  });

  (process.getuid?.() === 0 ? it : it.skip)("installs a user's files with the modes the release records, whatever that user's umask, so the containers can read their configs", async () => {
    // An operator in the docker group on a hardened server (umask 027 or 077), not root: tar would take
    // the umask off every mode, and prometheus, grafana or postgres' init scripts, run as their own
    // users, could not read the files bound into them.
    await chmod(scratch, 0o755);
    await chmod(dirname(allowedSigners), 0o755);
    // The script as an operator downloads it: the checkout it is tested from may be private to root.
    const script = join(place, 'install.sh');
    await copyFile(installScript, script);
    await execa('chown', ['-R', 'nobody', place]);
    const dir = join(place, 'changemaker-lite');
    const result = await execa('runuser', ['-u', 'nobody', '--', 'sh', '-c', 'umask 077 && exec bash "$@"', 'sh', script, '--allowed-signers', allowedSigners, '--version', 'v1.0.0', '--dir', dir, '--no-config'], {
      cwd: place,
      env: env(),
      extendEnv: false,
      reject: false,
    });
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.0.0.tar.gz...' });
    const modes: Record<string, string> = {};
    for (const path of ['.', 'configs', 'configs/prometheus', 'configs/prometheus/prometheus.yml', 'scripts/init-db', 'config.sh', 'docker-compose.yml']) {
      modes[path] = ((await stat(join(dir, path))).mode & 0o7777).toString(8);
    }
    expect(modes).toEqual({ '.': '755', configs: '755', 'configs/prometheus': '755', 'configs/prometheus/prometheus.yml': '644', 'scripts/init-db': '755', 'config.sh': '755', 'docker-compose.yml': '644' });
  });

  describe('an install directory it cannot use is refused in one line before anything is downloaded', () => {
    const downloads = () => gitea.requests().length;
    const install = (dir: string, extra: Record<string, string> = {}) =>
      run('bash', [installScript, '--allowed-signers', allowedSigners, '--version', 'v1.0.0', '--dir', dir, '--no-config'], place, extra);

    it('a --dir that is a file, or under one', async () => {
      await writeFile(join(place, 'notes.txt'), 'mine\n');
      const before = downloads();
      expect(await install(join(place, 'notes.txt'))).toMatchObject({ exitCode: 1, stderr: `install.sh: ${join(place, 'notes.txt')} exists and is no directory; choose another --dir` });
      expect(await install(join(place, 'notes.txt/changemaker-lite'))).toMatchObject({
        exitCode: 1,
        stderr: `install.sh: cannot create ${join(place, 'notes.txt')} (File exists); pass a --dir whose parent you can create, or run it as a user who can; nothing was installed`,
      });
      expect(downloads()).toBe(before);
      expect(await readdir(place)).toEqual(['notes.txt']);
    });

    it('a parent directory it may not write in (as /opt for a user who is not root)', async () => {
      // mktemp refusing as it does there; root, who runs the tests here, may write anywhere.
      const bin = join(place, 'bin');
      await mkdir(bin);
      await writeFile(join(bin, 'mktemp'), '#!/bin/sh\necho "mktemp: failed to create directory via template: Permission denied" >&2\nexit 1\n');
      await chmod(join(bin, 'mktemp'), 0o755);
      const parent = join(place, 'opt');
      const before = downloads();
      const result = await install(join(parent, 'changemaker-lite'), { PATH: `${bin}:${process.env['PATH']}` });
      expect(result).toMatchObject({
        exitCode: 1,
        stderr: `install.sh: cannot write in ${parent}, where changemaker-lite is to go (is it read-only, or not yours?); run it as a user who may write there (sudo), or pass another --dir; nothing was installed`,
      });
      expect(downloads()).toBe(before);
    });
  });

  describe('--allowed-signers', () => {
    it('a file that cannot be read is refused before anything is downloaded', async () => {
      const before = gitea.requests().length;
      const result = await run('bash', [installScript, '--allowed-signers', join(place, 'missing'), '--dir', join(place, 'changemaker-lite')], place);
      expect(result).toMatchObject({
        exitCode: 1,
        stderr: `install.sh: --allowed-signers ${join(place, 'missing')} is no file that can be read; pass an ssh-keygen allowed_signers file; nothing was changed`,
      });
      expect(gitea.requests().length).toBe(before);
      expect(await readdir(place)).toEqual([]);
    });

    it('a relative path is read where upgrade.sh was started, not in the installation it changes into', async () => {
      const dir = await installed();
      await copyFile(allowedSigners, join(place, 'signers'));
      const result = await run('bash', [join(dir, 'scripts/upgrade.sh'), '--allowed-signers', 'signers', '--version', 'v1.2.3+b', '--no-restart'], place);
      expect(result).toMatchObject({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.2.3+b.tar.gz...' });
      expect((await readFile(join(dir, 'VERSION'), 'utf8')).trim()).toBe('v1.2.3+b');
    });
  });
});
