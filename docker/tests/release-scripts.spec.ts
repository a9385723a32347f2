import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { signWithKey, type SigningKey } from '@changemaker/release-bundle';
import { findFreePort, startGiteaServer, type StoredRelease, type TestGiteaServer } from '@changemaker/testing';
import { packageRelease, publish, scriptEnvironment, shellWord, throwawaySigningKey, workspaceRoot, writerToken } from './fixtures/releases';

const installScript = join(workspaceRoot, 'docker/scripts/install.sh');
const readerToken = 'gitea-reader-93d0aa';
const wizardAnswers = { DOMAIN: 'example.org', ADMIN_EMAIL: 'ops@example.org' };

/** An asset download, whichever shape its URL has (/attachments/<uuid>, /<owner>/<repo>/releases/download/<tag>/<name>). */
const isDownload = (url: string) => !url.startsWith('/api/');

/**
 * A script run, its whole process group killed after `ms`: without a limit of its own curl would wait
 * for ever, and killing bash alone leaves curl holding the output pipes open.
 */
async function killedAfter(ms: number, script: string, args: string[], cwd: string, env: Record<string, string | undefined>) {
  const running = execa('bash', [script, ...args], { cwd, env, extendEnv: false, reject: false, input: '', detached: true });
  const timer = setTimeout(() => running.pid && process.kill(-running.pid, 'SIGKILL'), ms);
  try {
    return await running;
  } finally {
    clearTimeout(timer);
  }
}

async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 100 && !(await condition()); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('install.sh and upgrade.sh against a Gitea', () => {
  let scratch: string;
  let gitea: TestGiteaServer;
  let releases: Record<'v1.0.0' | 'v1.1.0', string>;
  let signingKey: SigningKey;
  let allowedSigners: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cm-release-scripts-'));
    ({ key: signingKey, allowedSigners } = await throwawaySigningKey(join(scratch, 'keys'), 'release-key'));
    releases = {
      'v1.0.0': await packageRelease('v1.0.0', join(scratch, 'v1.0.0'), { signingKey }),
      // The later release adds a top-level file, which a rollback must take away again.
      'v1.1.0': await packageRelease('v1.1.0', join(scratch, 'v1.1.0'), { signingKey, extraSources: { '../README.md': 'README.md' } }),
    };
    gitea = await startGiteaServer({ tokens: { [writerToken]: { login: 'releaser', canWrite: true } } });
    await publish(gitea, 'v1.0.0', releases['v1.0.0']);
    await publish(gitea, 'v1.1.0', releases['v1.1.0']);
  });
  afterAll(async () => {
    await gitea?.stop();
    await rm(scratch, { recursive: true, force: true });
  });
  afterEach(() => expect(gitea.violations()).toEqual([]));

  let place: string;
  beforeEach(async () => {
    place = await mkdtemp(join(scratch, 'a server-'));
  });

  const giteaEnv = (extra: Record<string, string> = {}) => scriptEnvironment({ GITEA_URL: gitea.url, GITEA_REPO: `${gitea.owner}/${gitea.repo}`, ...wizardAnswers, ...extra });

  function install(args: string[], env: Record<string, string> = {}) {
    return execa('bash', [installScript, '--allowed-signers', allowedSigners, ...args], { cwd: place, env: giteaEnv(env), extendEnv: false, reject: false, input: '' });
  }

  function upgrade(dir: string, args: string[], env: Record<string, string> = {}) {
    return execa('bash', [join(dir, 'scripts/upgrade.sh'), ...args], { cwd: dir, env: giteaEnv(env), extendEnv: false, reject: false, input: '' });
  }

  async function installed(version: string): Promise<string> {
    const dir = join(place, 'changemaker-lite');
    const result = await install(['--version', version, '--dir', dir]);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: `downloading changemaker-lite-${version}.tar.gz...` });
    return dir;
  }

  /** The installation's files and their contents, .env and data included, to show what changed. */
  async function snapshot(dir: string): Promise<Record<string, string>> {
    const files: Record<string, string> = {};
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      files[path.slice(dir.length + 1)] = entry.isFile() ? await readFile(path, 'utf8') : '<dir>';
    }
    return files;
  }

  const version = async (dir: string) => (await readFile(join(dir, 'VERSION'), 'utf8')).trim();
  const leftovers = async () => (await readdir(place)).filter((name) => name !== 'changemaker-lite');

  it('piped into bash, installs the latest release into ./changemaker-lite, verified, and the wizard writes .env', async () => {
    const script = await readFile(installScript, 'utf8');
    const result = await execa('bash', ['-s', '--', '--allowed-signers', allowedSigners], { cwd: place, env: giteaEnv(), extendEnv: false, input: script, reject: false });

    expect(result.stderr).toBe('downloading changemaker-lite-v1.1.0.tar.gz...');
    expect(result.exitCode).toBe(0);
    const dir = join(place, 'changemaker-lite');
    expect(await version(dir)).toBe('v1.1.0');
    expect(await readFile(join(dir, '.env'), 'utf8')).toMatch(/^DOMAIN=example\.org$/m);
    expect(await readFile(join(dir, 'docker-compose.yml'), 'utf8')).toContain('changemaker-api:${IMAGE_TAG:-v1.1.0}');
    expect(existsSync(join(dir, 'data/postgres'))).toBe(true);
    expect(result.stdout.split('\n').at(-1)).toBe(`start it, its images checked against the release's digests, with: cd ${shellWord(dir)} && scripts/upgrade.sh --start`);
    expect(await leftovers()).toEqual([]);
  });

  // A power loss is not played here; what it would find is: a rename reaches the disk before the
  // data of the files it moves, so an installation renamed into place a moment after it was
  // unpacked could hold its VERSION and empty files. The order of the calls is what prevents it.
  it('flushes the unpacked release to disk before it renames it into place', async () => {
    const bin = join(place, 'recording-bin');
    await mkdir(bin);
    const log = join(place, 'calls.log');
    for (const tool of ['mv', 'sync']) {
      const real = (await execa('bash', ['-c', `command -v ${tool}`])).stdout;
      await writeFile(join(bin, tool), `#!/bin/bash\necho "${tool} $*" >>'${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    }
    const dir = join(place, 'changemaker-lite');
    const result = await install(['--version', 'v1.0.0', '--dir', dir, '--no-config'], { PATH: `${bin}:${process.env['PATH']}` });
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.0.0.tar.gz...' });
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    const renamed = calls.findIndex((call) => call.startsWith('mv -T ') && call.endsWith(` ${dir}`));
    // Paths here hold spaces ("a server-…"): the source is what lies between `mv -T ` and the destination.
    const unpacked = calls[renamed]!.slice('mv -T '.length, -(dir.length + 1));
    expect(calls.slice(0, renamed)).toContain(`sync -f ${unpacked}`);
  });

  it("on busybox's tools, as on Alpine, install.sh and upgrade.sh refuse in one line naming what to install, before asking Gitea or changing anything", async () => {
    const dir = await installed('v1.0.0');
    const before = await snapshot(dir);
    const busybox = join(place, 'busybox-bin');
    await mkdir(busybox);
    const applets = (await execa('/bin/busybox', ['--list'])).stdout.split('\n').filter((applet) => !['[', '[[', 'sh', 'ash', 'busybox'].includes(applet));
    await Promise.all(applets.map((applet) => symlink('/bin/busybox', join(busybox, applet))));
    const onBusybox = { PATH: `${busybox}:${process.env['PATH']}` };
    const asked = gitea.requests().length;
    const refusal = "this system's realpath or find lacks the GNU options these scripts use (realpath -m, find -printf), as busybox's do on Alpine: install GNU coreutils and findutils (apk add coreutils findutils), then run it again; nothing was changed";

    const fresh = await install(['--version', 'v1.1.0', '--dir', join(place, 'another'), '--no-config'], onBusybox);
    expect({ exitCode: fresh.exitCode, stderr: fresh.stderr }).toEqual({ exitCode: 1, stderr: `install.sh: ${refusal}` });
    expect(existsSync(join(place, 'another'))).toBe(false);
    const up = await upgrade(dir, ['--no-restart'], onBusybox);
    expect({ exitCode: up.exitCode, stderr: up.stderr }).toEqual({ exitCode: 1, stderr: `upgrade.sh: ${refusal}` });
    expect(await snapshot(dir)).toEqual(before);
    expect(gitea.requests().length).toBe(asked);
  });

  it('piped into bash from a terminal, the wizard asks the operator there, not the pipe', async () => {
    // `script` gives the pipeline a terminal, as an operator's ssh session has; the answers are typed into it.
    const pipeline = `cat '${installScript}' | bash -s -- --allowed-signers '${allowedSigners}' --dir '${join(place, 'changemaker-lite')}'`;
    const env = scriptEnvironment({ GITEA_URL: gitea.url, GITEA_REPO: `${gitea.owner}/${gitea.repo}` });
    const result = await execa('script', ['-qec', pipeline, '/dev/null'], { env, extendEnv: false, input: 'typed.example.org\nme@typed.example.org\n\n', reject: false });

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Domain [');
    const written = await readFile(join(place, 'changemaker-lite/.env'), 'utf8');
    expect(written).toMatch(/^DOMAIN=typed\.example\.org$/m);
    expect(written).toMatch(/^ADMIN_EMAIL=me@typed\.example\.org$/m);
  });

  it('upgrades to the latest release keeping .env and data, and --rollback returns to the exact files before', async () => {
    const dir = await installed('v1.0.0');
    await writeFile(join(dir, 'data/postgres/PG_VERSION'), '16\n');
    await writeFile(join(dir, '.env'), `${await readFile(join(dir, '.env'), 'utf8')}# edited by the operator\n`);
    const before = await snapshot(dir);

    const up = await upgrade(dir, ['--no-restart']);
    expect(up.stderr).toBe('downloading changemaker-lite-v1.1.0.tar.gz...');
    expect(up.exitCode).toBe(0);
    expect(up.stdout).toContain('files upgraded from v1.0.0 to v1.1.0 (the previous files are in .rollback/)');
    expect(await version(dir)).toBe('v1.1.0');
    expect(await readFile(join(dir, '.env'), 'utf8')).toBe(before['.env']);
    expect(await readFile(join(dir, 'data/postgres/PG_VERSION'), 'utf8')).toBe('16\n');
    expect(await readFile(join(dir, 'docker-compose.yml'), 'utf8')).toContain('${IMAGE_TAG:-v1.1.0}');
    expect(existsSync(join(dir, 'README.md'))).toBe(true);
    expect((await readdir(dir)).filter((name) => name.startsWith('.upgrade'))).toEqual([]);

    const back = await upgrade(dir, ['--rollback', '--no-restart']);
    expect(back).toMatchObject({ exitCode: 0, stdout: 'returned from v1.1.0 to v1.0.0', stderr: '' });
    expect(await snapshot(dir)).toEqual(before);

    const again = await upgrade(dir, ['--rollback', '--no-restart']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toBe('upgrade.sh: there is no .rollback/ to return to: no upgrade has been made here');
  });

  describe('the Gitea an installation came from', () => {
    // Were the public default Gitea asked, curl would meet a closed port on this machine (a proxy
    // that is not there), never leave it; the test Gitea is on 127.0.0.1, which the proxy skips.
    const offline = scriptEnvironment({ https_proxy: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', no_proxy: '127.0.0.1', NO_PROXY: '127.0.0.1' });
    const upgradeWithoutGiteaSettings = (dir: string) => execa('bash', [join(dir, 'scripts/upgrade.sh'), '--no-restart'], { cwd: dir, env: offline, extendEnv: false, reject: false, input: '' });

    it('is recorded in .env by install.sh, and an upgrade run without GITEA_URL asks it, not the public default', async () => {
      const dir = await installed('v1.0.0');
      const env = await readFile(join(dir, '.env'), 'utf8');
      expect(env).toContain(`\nGITEA_URL=${gitea.url}\n`);
      expect(env).toContain('\nGITEA_REPO=admin/changemaker.lite\n');
      const up = await upgradeWithoutGiteaSettings(dir);
      expect({ exitCode: up.exitCode, stderr: up.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.1.0.tar.gz...' });
      expect(await version(dir)).toBe('v1.1.0');
    });

    it('is recorded by the first upgrade of an installation from before, run with GITEA_URL set, for the upgrades after it', async () => {
      const dir = await installed('v1.0.0');
      await writeFile(join(dir, '.env'), (await readFile(join(dir, '.env'), 'utf8')).replace(/^GITEA_(URL|REPO)=.*\n/gm, ''));
      const up = await upgrade(dir, ['--no-restart']);
      expect(up.exitCode).toBe(0);
      expect(up.stdout).toContain(`added GITEA_URL=${gitea.url} to .env`);
      expect(await upgradeWithoutGiteaSettings(dir)).toMatchObject({ exitCode: 0, stdout: 'already on v1.1.0; no update available', stderr: '' });
    });
  });

  it('records in .shipped-files the sha256 of every file the release tarball holds but the operator’s entries, as they are installed', async () => {
    const dir = await installed('v1.0.0');
    const unpacked = join(place, 'unpacked');
    await mkdir(unpacked);
    await execa('tar', ['-xzf', join(releases['v1.0.0'], 'changemaker-lite-v1.0.0.tar.gz'), '-C', unpacked]);
    const shipped: string[] = [];
    const root = join(unpacked, 'changemaker-lite');
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name).slice(root.length + 1);
      if (!entry.isFile() || /^(data|backups)\//.test(path)) continue;
      shipped.push(`${createHash('sha256').update(await readFile(join(root, path))).digest('hex')}  ${path}`);
    }
    expect(shipped).toEqual(expect.arrayContaining([expect.stringMatching(/  VERSION$/), expect.stringMatching(/  scripts\/upgrade\.sh$/), expect.stringMatching(/  nginx\/conf\.d\/default\.conf\.template$/)]));

    const record = (await readFile(join(dir, '.shipped-files'), 'utf8')).split('\n');
    expect(record.pop()).toBe('');
    // One line per file, sorted by path; .env (written by the wizard), data/ and backups/ are the operator’s.
    expect(record.map((line) => line.slice(66))).toEqual(record.map((line) => line.slice(66)).sort());
    expect([...record].sort()).toEqual(shipped.sort());
    expect(record.some((line) => /  (\.env|data\/.*|backups\/.*|\.shipped-files)$/.test(line))).toBe(false);
    // sha256sum's own format: the installed files check against it.
    expect((await execa('sha256sum', ['-c', '--quiet', '.shipped-files'], { cwd: dir, reject: false })).exitCode).toBe(0);
    expect((await readdir(place)).sort()).toEqual(['changemaker-lite', 'unpacked']);
  });

  it('says there is no update when the installation is on the latest release, and changes nothing', async () => {
    const dir = await installed('v1.1.0');
    const before = await snapshot(dir);
    const result = await upgrade(dir, ['--no-restart']);
    expect(result).toMatchObject({ exitCode: 0, stdout: 'already on v1.1.0; no update available', stderr: '' });
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a release withdrawn by marking it a pre-release is no longer installed, and a server already on it is told there is nothing newer', async () => {
    const dir = await installed('v1.1.0');
    const before = await snapshot(dir);
    const withdrawn = gitea.releases().find((release) => release.tagName === 'v1.1.0')!;
    withdrawn.prerelease = true;
    try {
      const result = await upgrade(dir, ['--no-restart']);
      expect(result).toMatchObject({ exitCode: 0, stdout: 'already on v1.1.0, newer than the latest release v1.0.0; no update available', stderr: '' });
      expect(await snapshot(dir)).toEqual(before);
      const fresh = join(place, 'fresh');
      expect((await install(['--dir', fresh, '--no-config'])).exitCode).toBe(0);
      expect(await version(fresh)).toBe('v1.0.0');
    } finally {
      withdrawn.prerelease = false;
    }
  });

  it('with no Docker daemon to reach, refuses in one line before downloading or changing anything; its dry run notes it and goes on', async () => {
    const dir = await installed('v1.0.0');
    const before = await snapshot(dir);
    const downloadsBefore = gitea.requests().filter((r) => isDownload(r.url)).length;
    // The real docker client, against a daemon that is not there (stopped, or never started).
    const noDaemon = { DOCKER_HOST: `unix://${join(scratch, 'no-daemon.sock')}` };
    const said = `cannot reach the Docker daemon as ${(await execa('id', ['-un'])).stdout} (Cannot connect to the Docker daemon at unix://${join(scratch, 'no-daemon.sock')}. Is the docker daemon running?): start Docker (sudo systemctl start docker)`;

    const result = await upgrade(dir, [], noDaemon);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 1, stderr: `upgrade.sh: ${said}; nothing was changed` });
    const fresh = await install(['--start', '--dir', join(place, 'fresh')], noDaemon);
    expect({ exitCode: fresh.exitCode, stderr: fresh.stderr }).toEqual({ exitCode: 1, stderr: `install.sh: ${said}; nothing was changed` });
    expect(await snapshot(dir)).toEqual(before);
    expect(await leftovers()).toEqual([]);
    expect(gitea.requests().filter((r) => isDownload(r.url)).length).toBe(downloadsBefore);

    const plan = await upgrade(dir, ['--dry-run'], noDaemon);
    expect(plan).toMatchObject({ exitCode: 0, stderr: `note: ${said}; the run itself would stop here, changing nothing` });
    expect(plan.stdout.split('\n')[0]).toBe('upgrade available: v1.0.0 -> v1.1.0');
  });

  it('installs a release whose tag carries build metadata (v1.2.3+b1): the tarball is looked up in SHA256SUMS by its name, not as a pattern', async () => {
    // The release toolchain does not cut such tags (release-contract refuses them), but require_release_tag takes them.
    const tag = 'v1.2.3+b1';
    const tree = join(scratch, tag);
    await mkdir(join(tree, 'changemaker-lite'), { recursive: true });
    await writeFile(join(tree, 'changemaker-lite/VERSION'), `${tag}\n`);
    await execa('tar', ['-czf', join(tree, 'bundle.tar.gz'), '-C', tree, 'changemaker-lite']);
    const tarball = await readFile(join(tree, 'bundle.tar.gz'));
    const sums = Buffer.from(`${createHash('sha256').update(tarball).digest('hex')}  changemaker-lite-${tag}.tar.gz\n`);
    const attachment = (id: number, name: string, bytes: Buffer) => ({ id, uuid: `build-metadata-${id}`, name, bytes, createdAt: new Date().toISOString() });
    gitea.addRelease({
      tagName: tag,
      prerelease: true,
      attachments: [attachment(9101, `changemaker-lite-${tag}.tar.gz`, tarball), attachment(9102, 'SHA256SUMS', sums), attachment(9103, 'SHA256SUMS.sig', await signWithKey(signingKey, sums))],
    });

    const dir = join(place, 'changemaker-lite');
    const result = await install(['--version', tag, '--dir', dir, '--no-config']);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: `downloading changemaker-lite-${tag}.tar.gz...` });
    expect(await version(dir)).toBe(tag);
  });

  it('--dir naming a symlink to an empty directory installs into that directory and says where', async () => {
    const target = join(place, 'volume');
    await mkdir(target);
    await symlink(target, join(place, 'link'));
    const result = await install(['--version', 'v1.0.0', '--dir', join(place, 'link'), '--no-config']);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.0.0.tar.gz...' });
    expect(result.stdout.split('\n')[0]).toBe(`installed v1.0.0 into ${target}`);
    expect(await version(target)).toBe('v1.0.0');
    expect((await readdir(place)).sort()).toEqual(['link', 'volume']);
  });

  it('dry runs say what they would do, download nothing and change nothing', async () => {
    const dir = await installed('v1.0.0');
    const before = await snapshot(dir);
    const downloadsBefore = gitea.requests().filter((r) => isDownload(r.url)).length;

    const wouldUpgrade = await upgrade(dir, ['--dry-run']);
    expect(wouldUpgrade.stdout.split('\n')).toEqual([
      'upgrade available: v1.0.0 -> v1.1.0',
      `would download v1.1.0 from ${gitea.url} (admin/changemaker.lite), verify its signature and checksum, back up the database, swap it in and add its new .env keys, then pull, check the image digests, restart and wait up to 180s for it to be healthy`,
    ]);
    const wouldInstall = await install(['--dry-run', '--dir', join(place, 'new/elsewhere')]);
    expect(wouldInstall.stdout).toBe(`would install v1.1.0 from ${gitea.url} (admin/changemaker.lite) into ${join(place, 'new/elsewhere')} and run config.sh`);

    expect([wouldUpgrade.exitCode, wouldInstall.exitCode]).toEqual([0, 0]);
    expect(await snapshot(dir)).toEqual(before);
    expect(await leftovers()).toEqual([]);
    expect(gitea.requests().filter((r) => isDownload(r.url)).length).toBe(downloadsBefore);
  });

  it('takes the highest version for the newest release, not the one published last: a fix for an older line released after v1.1.0', async () => {
    const fix = gitea.addRelease({ tagName: 'v1.0.2', createdAt: '2999-01-01T00:00:00.000Z' });
    try {
      // Gitea's own releases/latest is the release created last (GetLatestReleaseByRepoID).
      const latest = (await (await fetch(`${gitea.url}/api/v1/repos/admin/changemaker.lite/releases/latest`)).json()) as { tag_name: string };
      expect(latest.tag_name).toBe('v1.0.2');
      const dir = join(place, 'newest');
      expect((await install(['--dir', dir, '--no-config'])).exitCode).toBe(0);
      expect(await version(dir)).toBe('v1.1.0');
      const old = await installed('v1.0.0');
      expect((await upgrade(old, ['--dry-run'])).stdout.split('\n')[0]).toBe('upgrade available: v1.0.0 -> v1.1.0');
      expect(gitea.requests().some((request) => request.url.includes('v1.0.2'))).toBe(false);
    } finally {
      gitea.releases().splice(gitea.releases().indexOf(fix), 1);
    }
  });

  it('reads every page of the list for the newest release: v1.1.0 behind 60 releases of an older line published since', async () => {
    const since = Array.from({ length: 60 }, (_, index) => gitea.addRelease({ tagName: `v0.9.${index}`, createdAt: `2999-01-01T00:00:${String(index).padStart(2, '0')}.000Z` }));
    try {
      const dir = join(place, 'newest');
      expect((await install(['--dir', dir, '--no-config'])).exitCode).toBe(0);
      expect(await version(dir)).toBe('v1.1.0');
    } finally {
      for (const release of since) gitea.releases().splice(gitea.releases().indexOf(release), 1);
    }
  });

  describe('refuses with one line, and leaves nothing behind', () => {
    const tampered = 'v1.9.9';
    const unlisted = 'v1.9.8';

    /** A release whose assets are not what package-release wrote; pre-releases, so "latest" stays v1.1.0. */
    /** Signed by the release key: what is wrong is the tarball or the list, not the signature. */
    async function seedBrokenRelease(tag: string, firstId: number, tarball: Buffer, sums: string): Promise<void> {
      const attachment = (id: number, name: string, bytes: Buffer) => ({ id, uuid: `${tag}-${id}`, name, bytes, createdAt: new Date().toISOString() });
      const release: Partial<StoredRelease> & { tagName: string } = {
        tagName: tag,
        prerelease: true,
        attachments: [
          attachment(firstId, `changemaker-lite-${tag}.tar.gz`, tarball),
          attachment(firstId + 1, 'SHA256SUMS', Buffer.from(sums)),
          attachment(firstId + 2, 'SHA256SUMS.sig', await signWithKey(signingKey, Buffer.from(sums))),
        ],
      };
      gitea.addRelease(release);
    }

    beforeAll(async () => {
      const good = await readFile(join(releases['v1.1.0'], 'changemaker-lite-v1.1.0.tar.gz'));
      const flipped = Buffer.from(good);
      flipped[flipped.length - 100] ^= 0xff;
      const goodSum = (await readFile(join(releases['v1.1.0'], 'SHA256SUMS'), 'utf8')).split('\n').find((line) => line.endsWith('v1.1.0.tar.gz'))!.slice(0, 64);
      await seedBrokenRelease(tampered, 9001, flipped, `${goodSum}  changemaker-lite-${tampered}.tar.gz\n`);
      await seedBrokenRelease(unlisted, 9004, good, `${goodSum}  changemaker-lite-latest.tar.gz\n`);
    });

    it('a tarball that does not match SHA256SUMS: nothing installed, nothing upgraded', async () => {
      const fresh = await install(['--version', tampered, '--dir', join(place, 'fresh')]);
      expect(fresh.exitCode).toBe(1);
      expect(fresh.stderr.split('\n').at(-1)).toBe(
        `install.sh: changemaker-lite-${tampered}.tar.gz does not match its checksum in SHA256SUMS: the download is corrupt or was tampered with; nothing was changed`,
      );
      expect(await readdir(place)).toEqual([]);

      const dir = await installed('v1.0.0');
      const before = await snapshot(dir);
      const up = await upgrade(dir, ['--version', tampered, '--no-restart']);
      expect(up.exitCode).toBe(1);
      expect(up.stderr.split('\n').at(-1)).toMatch(/^upgrade\.sh: .* does not match its checksum in SHA256SUMS/);
      expect(await snapshot(dir)).toEqual(before);
    });

    it('a SHA256SUMS that does not list the tarball', async () => {
      const result = await install(['--version', unlisted, '--dir', join(place, 'fresh')]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr.split('\n').at(-1)).toBe(`install.sh: SHA256SUMS of ${unlisted} does not list changemaker-lite-${unlisted}.tar.gz; the release is incomplete, nothing was changed`);
      expect(await readdir(place)).toEqual([]);
    });

    it('a version that was never released', async () => {
      const result = await install(['--version', 'v9.9.9']);
      expect(result).toMatchObject({
        exitCode: 1,
        stderr: `install.sh: no release v9.9.9 in admin/changemaker.lite on ${gitea.url}; check --version, GITEA_URL and GITEA_REPO (a private repository needs GITEA_REGISTRY_API_TOKEN)`,
      });
      expect(await readdir(place)).toEqual([]);
    });

    it('a Gitea that cannot be reached, in one line with curl\'s reason', async () => {
      const port = await findFreePort();
      const result = await install([], { GITEA_URL: `http://127.0.0.1:${port}` });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^install\\.sh: cannot reach http://127\\.0\\.0\\.1:${port} \\(Failed to connect to 127\\.0\\.0\\.1 port ${port}[^\\n]*\\); check GITEA_URL and the network$`));
      expect(await readdir(place)).toEqual([]);
    });

    it('a Gitea that accepts connections and never answers, after GITEA_STALL_SECONDS', async () => {
      const silent = createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      try {
        const dir = await installed('v1.0.0');
        const before = await snapshot(dir);
        const line = `made no progress for 1s; check GITEA_URL and the network, or raise GITEA_STALL_SECONDS on a slow link`;
        const env = giteaEnv({ GITEA_URL: url, GITEA_STALL_SECONDS: '1' });
        const started = Date.now();
        const fresh = await killedAfter(20_000, installScript, ['--allowed-signers', allowedSigners, '--dir', join(place, 'fresh')], place, env);
        expect(fresh).toMatchObject({ exitCode: 1, stderr: `install.sh: ${url} ${line}` });
        // One stall waited out, then no retry.
        expect(Date.now() - started).toBeLessThan(8_000);
        const up = await killedAfter(20_000, join(dir, 'scripts/upgrade.sh'), ['--no-restart'], dir, env);
        expect(up).toMatchObject({ exitCode: 1, stderr: `upgrade.sh: ${url} ${line}` });
        expect(await snapshot(dir)).toEqual(before);
        expect(await leftovers()).toEqual([]);
      } finally {
        silent.close();
      }
    });

    it('a GITEA_STALL_SECONDS that is no number of seconds', async () => {
      const result = await install([], { GITEA_STALL_SECONDS: '1m' });
      expect(result).toMatchObject({ exitCode: 1, stderr: "install.sh: GITEA_STALL_SECONDS='1m' is not a whole number of seconds; set it like 60, or unset it" });
    });

    it('a directory that already holds an installation, or anything else', async () => {
      const dir = await installed('v1.0.0');
      const before = await snapshot(dir);
      const over = await install(['--dir', dir]);
      expect(over).toMatchObject({ exitCode: 1, stderr: `install.sh: ${dir} already holds an installation (v1.0.0); run scripts/upgrade.sh there` });
      await mkdir(join(place, 'busy'));
      await writeFile(join(place, 'busy/notes.txt'), 'mine\n');
      const busy = await install(['--dir', join(place, 'busy')]);
      expect(busy).toMatchObject({ exitCode: 1, stderr: `install.sh: ${join(place, 'busy')} is not empty; choose another --dir` });
      expect(await snapshot(dir)).toEqual(before);
    });

    it('a second upgrade while one is running', async () => {
      const dir = await installed('v1.0.0');
      const before = await snapshot(dir);
      // Its own process group: killing flock alone would leave its sleep holding the output pipe for 30 s.
      const running = execa('flock', [dir, 'sleep', '30'], { reject: false, detached: true });
      try {
        await waitUntil(async () => (await execa('flock', ['-n', dir, 'true'], { reject: false })).exitCode !== 0);
        const second = await upgrade(dir, ['--no-restart']);
        expect(second).toMatchObject({ exitCode: 1, stderr: `upgrade.sh: another upgrade.sh is running in ${dir}; wait for it to finish` });
        expect(await snapshot(dir)).toEqual(before);
      } finally {
        if (running.pid) process.kill(-running.pid, 'SIGKILL');
        await running;
      }
    });

    it('a GITEA_URL that carries credentials, before any request and without repeating them', async () => {
      const withCredentials = gitea.url.replace('http://', 'http://deployer:s3cret-pass@');
      const seenBefore = gitea.requests().length;
      const line = 'GITEA_URL carries credentials; remove them from the URL and put the token in GITEA_REGISTRY_API_TOKEN';
      const fresh = await install(['--dir', join(place, 'fresh')], { GITEA_URL: withCredentials });
      expect(fresh).toMatchObject({ exitCode: 1, stdout: '', stderr: `install.sh: ${line}` });
      expect(await readdir(place)).toEqual([]);

      const dir = await installed('v1.0.0');
      const before = await snapshot(dir);
      const up = await upgrade(dir, ['--no-restart'], { GITEA_URL: withCredentials });
      expect(up).toMatchObject({ exitCode: 1, stdout: '', stderr: `upgrade.sh: ${line}` });
      expect(await snapshot(dir)).toEqual(before);
      expect(gitea.requests().length).toBe(seenBefore + 4);
    });

    it('a GITEA_URL or GITEA_REPO set but empty, instead of reading it as unset and asking the public default', async () => {
      const seenBefore = gitea.requests().length;
      for (const [name, fallback] of [['GITEA_URL', 'https://gitea.bnkops.com'], ['GITEA_REPO', 'admin/changemaker.lite']] as const) {
        const line = `${name} is set but empty; set it, or unset it to use the default ${fallback}`;
        expect(await install(['--dir', join(place, 'fresh')], { [name]: '' })).toMatchObject({ exitCode: 1, stdout: '', stderr: `install.sh: ${line}` });
        expect(await readdir(place)).toEqual([]);
        const dir = await installed('v1.0.0');
        const before = await snapshot(dir);
        expect(await upgrade(dir, ['--no-restart'], { [name]: '' })).toMatchObject({ exitCode: 1, stdout: '', stderr: `upgrade.sh: ${line}` });
        expect(await snapshot(dir)).toEqual(before);
        await rm(dir, { recursive: true, force: true });
      }
      expect(gitea.requests().length).toBe(seenBefore + 8);
    });

    it('an unknown option, or a version that is no tag', async () => {
      expect(await install(['--versoin', 'v1.0.0'])).toMatchObject({ exitCode: 1, stderr: 'install.sh: unknown option --versoin; see --help' });
      expect(await install(['--version', '../../admin'])).toMatchObject({ exitCode: 1, stderr: "install.sh: --version '../../admin' is not a release tag; pass one like v1.2.3" });
      expect(await readdir(place)).toEqual([]);
    });
  });
});

describe('a draft release, which older Gitea and Forgejo answer at releases/tags/{tag} to any reader', () => {
  let gitea: TestGiteaServer;
  let scratch: string;
  let allowedSigners: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cm-draft-release-'));
    const { key, allowedSigners: signers } = await throwawaySigningKey(join(scratch, 'keys'), 'release-key');
    allowedSigners = signers;
    gitea = await startGiteaServer({ draftsByTag: 'everyone', tokens: { [writerToken]: { login: 'releaser', canWrite: true } } });
    await publish(gitea, 'v1.0.0', await packageRelease('v1.0.0', join(scratch, 'v1.0.0'), { signingKey: key }));
    // Complete and signed, but held back: nothing but its draft flag says it must not be installed.
    await publish(gitea, 'v1.1.0', await packageRelease('v1.1.0', join(scratch, 'v1.1.0'), { signingKey: key }));
    gitea.releases().find((release) => release.tagName === 'v1.1.0')!.draft = true;
  });
  afterAll(async () => {
    await gitea?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  const run = (script: string, args: string[], cwd: string, env: Record<string, string>) =>
    execa('bash', [script, ...args], {
      cwd,
      env: scriptEnvironment({ GITEA_URL: gitea.url, GITEA_REPO: `${gitea.owner}/${gitea.repo}`, ...env }),
      extendEnv: false,
      reject: false,
      input: '',
    });

  // With a writer's token even newer Gitea answers the draft, and lets its assets be downloaded.
  it.each([
    ['without a token', {}],
    ["with a writer's token", { GITEA_REGISTRY_API_TOKEN: writerToken }],
  ])('%s, is refused by install.sh --version and upgrade.sh --version, with nothing downloaded or changed', async (_who, env) => {
    const server = await mkdtemp(join(scratch, 'server-'));
    const dir = join(server, 'changemaker-lite');
    const downloadsBefore = gitea.requests().filter((request) => isDownload(request.url)).length;
    const refused = await run(installScript, ['--allowed-signers', allowedSigners, '--version', 'v1.1.0', '--dir', dir, '--no-config'], server, env);
    const line = 'the release v1.1.0 is a draft: it is not published yet; pick another --version, or wait until it is published';
    expect(refused).toMatchObject({ exitCode: 1, stderr: `install.sh: ${line}` });
    expect(await readdir(server)).toEqual([]);

    expect((await run(installScript, ['--allowed-signers', allowedSigners, '--version', 'v1.0.0', '--dir', dir, '--no-config'], server, env)).exitCode).toBe(0);
    const up = await run(join(dir, 'scripts/upgrade.sh'), ['--version', 'v1.1.0', '--no-restart'], dir, env);
    expect(up).toMatchObject({ exitCode: 1, stderr: `upgrade.sh: ${line}` });
    expect((await readFile(join(dir, 'VERSION'), 'utf8')).trim()).toBe('v1.0.0');
    expect(existsSync(join(dir, '.rollback'))).toBe(false);
    // v1.0.0's tarball, SHA256SUMS and signature only.
    expect(gitea.requests().filter((request) => isDownload(request.url)).length - downloadsBefore).toBe(3);
  });

  it("never takes a draft for the newest, though a writer's token lists it; with only drafts and pre-releases it says none is published", async () => {
    const server = await mkdtemp(join(scratch, 'server-'));
    const installed = await run(installScript, ['--allowed-signers', allowedSigners, '--dir', join(server, 'changemaker-lite'), '--no-config'], server, { GITEA_REGISTRY_API_TOKEN: writerToken });
    expect(installed.exitCode).toBe(0);
    expect((await readFile(join(server, 'changemaker-lite', 'VERSION'), 'utf8')).trim()).toBe('v1.0.0');

    const stable = gitea.releases().find((release) => release.tagName === 'v1.0.0')!;
    stable.prerelease = true;
    try {
      const none = await run(installScript, ['--allowed-signers', allowedSigners, '--dir', join(server, 'none'), '--no-config'], server, { GITEA_REGISTRY_API_TOKEN: writerToken });
      expect(none).toMatchObject({
        exitCode: 1,
        stderr: `install.sh: no release published yet in admin/changemaker.lite on ${gitea.url}; check GITEA_URL and GITEA_REPO (a private repository needs GITEA_REGISTRY_API_TOKEN)`,
      });
      expect(await readdir(server)).toEqual(['changemaker-lite']);
    } finally {
      stable.prerelease = false;
    }
  });

  it('a release whose tag it cannot order as a version (v9.0.0+a+b: two +) is passed over for the newest, in silence', async () => {
    const odd = gitea.addRelease({ tagName: 'v9.0.0+a+b', createdAt: '2999-01-01T00:00:00.000Z' });
    try {
      const server = await mkdtemp(join(scratch, 'server-'));
      const installed = await run(installScript, ['--allowed-signers', allowedSigners, '--dir', join(server, 'changemaker-lite'), '--no-config'], server, {});
      expect({ exitCode: installed.exitCode, stderr: installed.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.0.0.tar.gz...' });
      expect((await readFile(join(server, 'changemaker-lite', 'VERSION'), 'utf8')).trim()).toBe('v1.0.0');
    } finally {
      gitea.releases().splice(gitea.releases().indexOf(odd), 1);
    }
  });

  it('a release whose tag is not a release tag (it would name files here) is never taken for the newest, however new', async () => {
    const odd = gitea.addRelease({ tagName: 'v9.0.0/../../elsewhere', createdAt: '2999-01-01T00:00:00.000Z' });
    try {
      const server = await mkdtemp(join(scratch, 'server-'));
      const installed = await run(installScript, ['--allowed-signers', allowedSigners, '--dir', join(server, 'changemaker-lite'), '--no-config'], server, {});
      expect(installed.exitCode).toBe(0);
      expect((await readFile(join(server, 'changemaker-lite', 'VERSION'), 'utf8')).trim()).toBe('v1.0.0');
      expect(await readdir(server)).toEqual(['changemaker-lite']);
      expect(gitea.requests().some((request) => request.url.includes('elsewhere'))).toBe(false);
    } finally {
      gitea.releases().splice(gitea.releases().indexOf(odd), 1);
    }
  });
});

describe("a team's release, cut against its own registry and published in its own Gitea", () => {
  const teamRegistry = '127.0.0.1:5999/team';
  let gitea: TestGiteaServer;
  let scratch: string;
  let allowedSigners: string;
  let release: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cm-team-registry-'));
    const { key, allowedSigners: signers } = await throwawaySigningKey(join(scratch, 'keys'), 'release-key');
    allowedSigners = signers;
    gitea = await startGiteaServer({ tokens: { [writerToken]: { login: 'releaser', canWrite: true } } });
    const location = { url: gitea.url, repo: `${gitea.owner}/${gitea.repo}` };
    release = await packageRelease('v1.0.0', join(scratch, 'v1.0.0'), { signingKey: key, registry: teamRegistry, gitea: location });
    await publish(gitea, 'v1.0.0', release);
  });
  afterAll(async () => {
    await gitea?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  const install = (server: string, env: Record<string, string>) =>
    execa('bash', [installScript, '--allowed-signers', allowedSigners, '--dir', join(server, 'changemaker-lite')], {
      cwd: server,
      env: scriptEnvironment({ GITEA_URL: gitea.url, GITEA_REPO: `${gitea.owner}/${gitea.repo}`, ...wizardAnswers, ...env }),
      extendEnv: false,
      reject: false,
      input: '',
    });

  it("installed by an operator who sets no GITEA_REGISTRY, pulls from the registry its images were checked in, not the product's upstream default", async () => {
    const server = await mkdtemp(join(scratch, 'server-'));
    const installed = await install(server, {});
    expect({ exitCode: installed.exitCode, stderr: installed.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.0.0.tar.gz...' });
    const dir = join(server, 'changemaker-lite');
    expect(await readFile(join(dir, '.env'), 'utf8')).toContain(`\nGITEA_REGISTRY=${teamRegistry}\n`);
    const images = (await readFile(join(dir, 'docker-compose.yml'), 'utf8')).split('\n').filter((line) => line.trim().startsWith('image:'));
    expect(images.length).toBeGreaterThan(4);
    for (const image of images) expect(image.trim()).toMatch(new RegExp(`^image: \\$\\{GITEA_REGISTRY:-${teamRegistry.replaceAll('.', '\\.')}\\}/`));
  });

  it('unpacked by hand and configured with config.sh (no install.sh), asks its own Gitea for upgrades, not the upstream default', async () => {
    const server = await mkdtemp(join(scratch, 'server-'));
    await execa('tar', ['-xzf', join(release, 'changemaker-lite-v1.0.0.tar.gz'), '-C', server]);
    const dir = join(server, 'changemaker-lite');
    const configured = await execa('bash', ['config.sh', '-y'], { cwd: dir, env: scriptEnvironment(wizardAnswers), extendEnv: false, reject: false, input: '' });
    expect(configured.exitCode).toBe(0);
    const env = await readFile(join(dir, '.env'), 'utf8');
    expect(env).toContain(`\nGITEA_URL=${gitea.url}\n`);
    expect(env).toContain(`\nGITEA_REPO=${gitea.owner}/${gitea.repo}\n`);
    // Were the public default asked, curl would meet a closed port (a proxy that is not there), never leave this machine.
    const offline = scriptEnvironment({ https_proxy: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', no_proxy: '127.0.0.1', NO_PROXY: '127.0.0.1' });
    const asked = gitea.requests().length;
    const up = await execa('bash', [join(dir, 'scripts/upgrade.sh'), '--no-restart'], { cwd: dir, env: offline, extendEnv: false, reject: false, input: '' });
    expect({ exitCode: up.exitCode, stdout: up.stdout, stderr: up.stderr }).toEqual({ exitCode: 0, stdout: 'already on v1.0.0; no update available', stderr: '' });
    expect(gitea.requests().length).toBeGreaterThan(asked);
  });

  it("still takes the operator's own GITEA_REGISTRY (the same registry by another name, say)", async () => {
    const server = await mkdtemp(join(scratch, 'server-'));
    const installed = await install(server, { GITEA_REGISTRY: 'registry.example.org/team' });
    expect(installed.exitCode).toBe(0);
    expect(await readFile(join(server, 'changemaker-lite', '.env'), 'utf8')).toContain('\nGITEA_REGISTRY=registry.example.org/team\n');
  });
});

describe('install.sh from a private repository', () => {
  let gitea: TestGiteaServer;
  let scratch: string;
  let allowedSigners: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cm-private-release-'));
    const { key, allowedSigners: signers } = await throwawaySigningKey(join(scratch, 'keys'), 'release-key');
    allowedSigners = signers;
    const release = await packageRelease('v2.0.0', join(scratch, 'release'), { signingKey: key });
    // Downloads go to object storage on another origin, as with Gitea's SERVE_DIRECT. As Gitea 1.20
    // did, the token is read at /attachments/<uuid> but not at /<owner>/<repo>/releases/download/.
    gitea = await startGiteaServer({
      privateRepo: true,
      serveDownloadsDirect: true,
      tokenlessDownloadByName: true,
      tokens: { [writerToken]: { login: 'releaser', canWrite: true }, [readerToken]: { login: 'server', canWrite: false } },
    });
    await publish(gitea, 'v2.0.0', release);
  });
  afterAll(async () => {
    await gitea?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  function install(dir: string, env: Record<string, string>) {
    return execa('bash', [installScript, '--allowed-signers', allowedSigners, '--dir', dir, '--no-config'], {
      env: scriptEnvironment({ GITEA_URL: gitea.url, GITEA_REPO: `${gitea.owner}/${gitea.repo}`, ...env }),
      extendEnv: false,
      reject: false,
      input: '',
    });
  }

  /** A curl on PATH that writes down its arguments, then runs the real curl with them. */
  async function curlRecordingArguments(): Promise<{ path: string; log: string }> {
    const bin = join(scratch, 'bin');
    const log = join(scratch, 'curl-arguments.log');
    const realCurl = (await execa('bash', ['-c', 'command -v curl'])).stdout;
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'curl'), `#!/bin/bash\nprintf '%s\\n' "$*" >> '${log}'\nexec '${realCurl}' "$@"\n`, { mode: 0o755 });
    return { path: `${bin}:${process.env['PATH']}`, log };
  }

  it('installs with a read token, sent to the Gitea only and never shown', async () => {
    const dir = join(scratch, 'with-token');
    const seenBefore = gitea.requests().length;
    const curl = await curlRecordingArguments();
    const result = await install(dir, { GITEA_REGISTRY_API_TOKEN: readerToken, PATH: curl.path });

    expect(result.exitCode).toBe(0);
    expect((await readFile(join(dir, 'VERSION'), 'utf8')).trim()).toBe('v2.0.0');
    expect(`${result.stdout}\n${result.stderr}`).not.toContain(readerToken);
    const curlArguments = await readFile(curl.log, 'utf8');
    // The list of releases (a page, then the empty page that ends it), the newest's lookup, then the tarball, SHA256SUMS and its signature.
    expect(curlArguments.trim().split('\n')).toHaveLength(6);
    expect(curlArguments).not.toContain(readerToken);
    const reads = gitea.requests().slice(seenBefore);
    expect(reads.map((r) => r.method)).toEqual(['GET', 'GET', 'GET', 'GET', 'GET', 'GET']);
    expect(reads.every((r) => r.authorization === `token ${readerToken}`)).toBe(true);
    expect(reads.every((r) => !r.url.includes(readerToken))).toBe(true);
    // curl does not carry the token across the redirect to storage.
    expect(gitea.storageRequests().map((r) => r.authorization)).toEqual([undefined, undefined, undefined]);
    expect(gitea.violations()).toEqual([]);
  });

  it("asks GITEA_URL for the assets whatever origin their URLs name, so the token goes nowhere else", async () => {
    // Another server on loopback, whose origin the Gitea's answers give the assets (as a ROOT_URL naming another host would).
    const elsewhere: Array<{ url?: string; authorization?: string }> = [];
    const other = createHttpServer((req, res) => {
      elsewhere.push({ url: req.url, authorization: req.headers.authorization });
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    // The Gitea behind a front that rewrites its origin in every JSON answer to the other server's.
    const front = createHttpServer((req, res) => {
      const forwarded = httpRequest(`${gitea.url}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          let body = Buffer.concat(chunks);
          if (String(answer.headers['content-type']).startsWith('application/json')) body = Buffer.from(body.toString('utf8').replaceAll(gitea.url, otherOrigin));
          res.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'content-length': body.length }).end(body);
        });
      });
      req.pipe(forwarded);
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    try {
      const seenBefore = gitea.requests().length;
      const dir = join(scratch, 'renamed-origin');
      const result = await install(dir, { GITEA_URL: `http://127.0.0.1:${(front.address() as AddressInfo).port}`, GITEA_REGISTRY_API_TOKEN: readerToken });

      expect(elsewhere).toEqual([]);
      expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v2.0.0.tar.gz...' });
      const reads = gitea.requests().slice(seenBefore);
      expect(reads.filter((r) => isDownload(r.url))).toHaveLength(3);
      expect(reads.every((r) => r.authorization === `token ${readerToken}`)).toBe(true);
    } finally {
      front.close();
      other.close();
    }
  });

  it('without a token the repository does not exist, and the error says a token may be missing', async () => {
    const result = await install(join(scratch, 'anonymous'), {});
    expect(result).toMatchObject({
      exitCode: 1,
      stderr: `install.sh: ${gitea.url} shows no releases of admin/changemaker.lite (404); check GITEA_URL and GITEA_REPO, that the repository's Releases are turned on, and for a private repository GITEA_REGISTRY_API_TOKEN`,
    });
    expect(existsSync(join(scratch, 'anonymous'))).toBe(false);
  });

  it('a token the Gitea does not know is named as the problem, not shown', async () => {
    const result = await install(join(scratch, 'bad-token'), { GITEA_REGISTRY_API_TOKEN: 'not-a-token-7731' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(`install.sh: ${gitea.url} refused the token in GITEA_REGISTRY_API_TOKEN (HTTP 401); create one with read access to admin/changemaker.lite`);
  });
});
