import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { signWithKey, type SigningKey } from '@changemaker/release-bundle';
import { bakedAllowedSigners } from '@changemaker/release-contract';
import { startGiteaServer, type StoredRelease, type TestGiteaServer } from '@changemaker/testing';
import { dockerStub, imageDigests, packageRelease, publish, scriptEnvironment, shellWord, throwawaySigningKey, workspaceRoot, writerToken, type DockerStub } from './fixtures/releases';

const installScript = join(workspaceRoot, 'docker/scripts/install.sh');
const wizardAnswers = { DOMAIN: 'example.org', ADMIN_EMAIL: 'ops@example.org' };
const apiImage = (tag: string) => `gitea.bnkops.com/admin/changemaker-api:${tag}`;
const postgresImage = 'gitea.bnkops.com/admin/postgres:16-alpine';
const digest = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;

/** The tree's files and their contents, .env and data included: what a refusal must leave as it was. */
async function treeHash(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries.sort((a, b) => join(a.parentPath, a.name).localeCompare(join(b.parentPath, b.name)))) {
    const path = join(entry.parentPath, entry.name);
    hash.update(`${path}\0${entry.isFile() ? await readFile(path, 'utf8') : '<dir>'}\0`);
  }
  return hash.digest('hex');
}

/** /api/health of whichever release the docker stub runs: ok (with spaces, as any JSON may have) only when it plays healthy. */
async function startHealthEndpoint(stub: () => DockerStub): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    void stub()
      .running()
      .then((running) => {
        const healthy = running?.endsWith(' healthy');
        res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
        res.end(healthy ? '{ "status" : "ok" }' : '{"status":"error","detail":"database unreachable"}');
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/health`, server };
}

describe('release installs on a server: signatures, health-gated upgrades, backups, .env keys, image digests', () => {
  let scratch: string;
  let gitea: TestGiteaServer;
  let key: SigningKey;
  let allowedSigners: string;
  let rogue: SigningKey;
  let health: { url: string; server: Server };
  let stub: DockerStub;
  let place: string;
  const envExample = async () => readFile(join(workspaceRoot, 'docker/.env.example'), 'utf8');

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cm-server-upgrade-'));
    ({ key, allowedSigners } = await throwawaySigningKey(join(scratch, 'keys'), 'release-key'));
    ({ key: rogue } = await throwawaySigningKey(join(scratch, 'keys'), 'rogue-key'));
    // Indented answers: the scripts must read Gitea's JSON whatever its whitespace.
    gitea = await startGiteaServer({ indentJson: 2, tokens: { [writerToken]: { login: 'releaser', canWrite: true } } });
    await publish(gitea, 'v1.0.0', await packageRelease('v1.0.0', join(scratch, 'v1.0.0'), { signingKey: key }));
    const withNewKey = `${await envExample()}\n# new in v1.1.0\nMEDIA_MAX_UPLOAD_MB=100\n`;
    await publish(gitea, 'v1.1.0', await packageRelease('v1.1.0', join(scratch, 'v1.1.0'), { signingKey: key, extraFiles: { '.env.example': withNewKey, 'docker-compose.override.yml': '# shipped from v1.1.0 on\n' } }));
    const digests = imageDigests([
      ['v2-postgres', postgresImage, digest('postgres')],
      ['api', apiImage('v1.2.0'), digest('api v1.2.0')],
    ]);
    await publish(gitea, 'v1.2.0', await packageRelease('v1.2.0', join(scratch, 'v1.2.0'), { signingKey: key, extraFiles: digests }), true);
    // An older release, as install.sh from main may be asked for: its upgrade.sh predates --start (its parser has no such option; the header still names it).
    const upgradeScript = await readFile(join(workspaceRoot, 'docker/scripts/upgrade.sh'), 'utf8');
    const withoutStart = upgradeScript.replace(/^ *--start\) .*\n/m, '');
    expect(withoutStart).not.toBe(upgradeScript);
    const olderDigests = imageDigests([
      ['v2-postgres', postgresImage, digest('postgres')],
      ['api', apiImage('v0.9.0'), digest('api v0.9.0')],
    ]);
    const older = { ...olderDigests, 'scripts/upgrade.sh': withoutStart };
    await publish(gitea, 'v0.9.0', await packageRelease('v0.9.0', join(scratch, 'v0.9.0'), { signingKey: key, extraFiles: older }), true);
    health = await startHealthEndpoint(() => stub);
  });
  afterAll(async () => {
    health?.server.close();
    await gitea?.stop();
    await rm(scratch, { recursive: true, force: true });
  });
  beforeEach(async () => {
    // A space in every path: the commands the scripts print for an operator to paste must hold it.
    place = await mkdtemp(join(scratch, 'a server-'));
    stub = await dockerStub(join(place, '.docker-stub'));
  });
  afterEach(() => expect(gitea.violations()).toEqual([]));

  const env = (extra: Record<string, string> = {}) =>
    scriptEnvironment({
      GITEA_URL: gitea.url,
      GITEA_REPO: `${gitea.owner}/${gitea.repo}`,
      PATH: stub.path,
      DOCKER_STUB_DIR: stub.dir,
      HEALTH_URL: health.url,
      HEALTH_POLL_SECONDS: '0.05',
      ...wizardAnswers,
      ...extra,
    });
  const install = (args: string[], extra: Record<string, string> = {}) =>
    execa('bash', [installScript, ...args], { cwd: place, env: env(extra), extendEnv: false, reject: false, input: '' });
  const upgrade = (dir: string, args: string[], extra: Record<string, string> = {}) =>
    execa('bash', [join(dir, 'scripts/upgrade.sh'), '--health-timeout', '5', ...args], { cwd: dir, env: env(extra), extendEnv: false, reject: false, input: '' });
  const version = async (dir: string) => (await readFile(join(dir, 'VERSION'), 'utf8')).trim();
  /** A script in a process group of its own, as a terminal starts it, for signalGroup to stop as Ctrl-C or a systemd stop does. */
  const detached = (script: string, args: string[], cwd: string, extra: Record<string, string> = {}) =>
    execa('bash', [script, ...args], { cwd, env: env(extra), extendEnv: false, reject: false, input: '', detached: true });
  const signalGroup = (pid: number | undefined, signal: NodeJS.Signals) => pid && process.kill(-pid, signal);
  async function waitFor(condition: () => Promise<boolean>): Promise<void> {
    for (let attempt = 0; !(await condition()); attempt++) {
      if (attempt > 400) throw new Error('the script never got there');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * The boot unit's ExecStartPre, run as systemd runs it: /bin/sh -c with its one quoted argument,
   * in the installation. The unit as copied to /etc/systemd/system, not the installation's own copy,
   * which a cut-off swap may have moved away.
   */
  async function bootUnitCheck(dir: string) {
    const unit = await readFile(join(workspaceRoot, 'docker/scripts/systemd/changemaker-lite.service'), 'utf8');
    const script = /^ExecStartPre=\/bin\/sh -c '([^']*)'$/m.exec(unit)?.[1];
    expect(script).toBeDefined();
    return execa('/bin/sh', ['-c', script!], { cwd: dir, env: env(), extendEnv: false, reject: false });
  }

  /** v1.0.0 installed, configured and running under the docker stub. */
  async function runningInstall(tag = 'v1.0.0'): Promise<string> {
    const dir = join(place, 'changemaker-lite');
    const result = await install(['--allowed-signers', allowedSigners, '--version', tag, '--dir', dir]);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: `downloading changemaker-lite-${tag}.tar.gz...` });
    await execa('docker', ['compose', 'up', '-d', '--remove-orphans'], { cwd: dir, env: env(), extendEnv: false });
    return dir;
  }

  describe('a healthy upgrade', () => {
    it('backs up the database, adds the new .env keys (generated secrets, the operator’s values kept), pulls, restarts and waits for health', async () => {
      const dir = await runningInstall();
      const operatorEnv = (await readFile(join(dir, '.env'), 'utf8')).replace(/^GRAFANA_ADMIN_PASSWORD=.*\n/m, '').replace(/^HTTP_PORT=.*$/m, 'HTTP_PORT=8088');
      await writeFile(join(dir, '.env'), operatorEnv);

      const result = await upgrade(dir, []);
      expect(result.stderr).toBe('downloading changemaker-lite-v1.1.0.tar.gz...');
      expect(result.exitCode).toBe(0);
      const lines = result.stdout.split('\n');
      expect(lines).toEqual(
        expect.arrayContaining([
          'upgrade available: v1.0.0 -> v1.1.0',
          'dumping database changemaker...',
          'files upgraded from v1.0.0 to v1.1.0 (the previous files are in .rollback/)',
          'added GRAFANA_ADMIN_PASSWORD to .env (generated)',
          'added MEDIA_MAX_UPLOAD_MB=100 to .env',
          'this release records no image digests (image-digests.txt); the pulled images are not checked',
          'waiting up to 5s for every service to be healthy...',
        ]),
      );
      expect(lines.at(-1)).toBe('upgraded from v1.0.0 to v1.1.0: every service is healthy and /api/health answers ok');
      expect(await version(dir)).toBe('v1.1.0');
      expect(await stub.running()).toBe('v1.1.0 healthy');

      const env = await readFile(join(dir, '.env'), 'utf8');
      expect(env.startsWith(operatorEnv)).toBe(true);
      expect(env).toMatch(/^GRAFANA_ADMIN_PASSWORD=[0-9a-f]{64}$/m);
      expect(env).toMatch(/^MEDIA_MAX_UPLOAD_MB=100$/m);
      expect(result.stdout).not.toContain(/^GRAFANA_ADMIN_PASSWORD=(.*)$/m.exec(env)![1]);

      const backups = (await readdir(join(dir, 'backups'))).filter((name) => name.endsWith('.tar.gz'));
      expect(backups).toHaveLength(1);
      const dump = await execa('tar', ['-xzOf', join(dir, 'backups', backups[0]!), 'database.dump']);
      expect(dump.stdout).toBe('PGDMP stub dump taken while v1.0.0 ran');

      // The backup ran before the swap, the pull before the restart, and the new release was started once.
      const calls = (await stub.calls()).filter((call) => !/ (inspect|compose ps|compose version|compose config|version --format)/.test(call));
      expect(calls).toEqual([
        'v1.0.0 compose up -d --remove-orphans',
        'v1.0.0 compose exec -T v2-postgres pg_dump -U changemaker -Fc changemaker',
        // backup.sh lists the cluster's other databases (nocodb's, listmonk's) to dump them too.
        'v1.0.0 compose exec -T v2-postgres psql -U changemaker -d changemaker -XAtc SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname',
        'v1.1.0 compose pull',
        'v1.1.0 compose up -d --remove-orphans',
      ]);
    });

    it('--no-backup skips the backup and says so', async () => {
      const dir = await runningInstall();
      const result = await upgrade(dir, ['--no-backup']);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain('no database backup (--no-backup)');
      expect((await readdir(join(dir, 'backups'))).filter((name) => name.endsWith('.tar.gz'))).toEqual([]);
    });
  });

  describe('an upgrade that does not come up healthy is rolled back by itself', () => {
    it.each([
      ['unhealthy', 'api failed its health check'],
      ['crash-loop', 'api is crash-looping (restarting)'],
    ] as const)('%s: the previous files are back, restarted, and report healthy', async (scenario, problem) => {
      const dir = await runningInstall();
      await stub.play('v1.1.0', scenario);
      const result = await upgrade(dir, []);

      expect(result.exitCode).toBe(1);
      const [backup] = (await readdir(join(dir, 'backups'))).filter((name) => name.endsWith('.tar.gz'));
      expect(result.stderr.split('\n')).toEqual([
        'downloading changemaker-lite-v1.1.0.tar.gz...',
        `v1.1.0 did not come up: ${problem}; putting v1.0.0's files back`,
        `upgrade.sh: v1.1.0 did not come up: ${problem}; v1.0.0 is back, running and healthy; v1.1.0 ran against the database meanwhile: ` +
          `if it changed data v1.0.0 reads, restore the backup made before the upgrade (${shellWord(join(dir, 'scripts/restore.sh'))} ${shellWord(join(dir, 'backups', backup!))} --yes)`,
      ]);
      expect(await version(dir)).toBe('v1.0.0');
      expect(await stub.running()).toBe('v1.0.0 healthy');
      expect((await stub.calls()).filter((call) => call.includes('compose up'))).toEqual([
        'v1.0.0 compose up -d --remove-orphans',
        'v1.1.0 compose up -d --remove-orphans',
        'v1.0.0 compose up -d --remove-orphans',
      ]);
    });

    it('a health endpoint that never answers ok fails after --health-timeout', async () => {
      const dir = await runningInstall();
      // Long enough for the stub's containers to pass their start on a busy machine; SECONDS counts whole seconds.
      const result = await upgrade(dir, ['--health-timeout', '3'], { HEALTH_URL: `${health.url}/nothing-listens-here`.replace(/:\d+\//, ':9/') });
      expect(result.exitCode).toBe(1);
      expect(result.stderr.split('\n').at(-1)).toMatch(
        /^upgrade\.sh: v1\.1\.0 did not come up: not healthy after 3s: \/api\/health does not answer \{"status":"ok"\}; v1\.0\.0's files are back but it did not come up either \(not healthy after 3s: \/api\/health does not answer \{"status":"ok"\}\); check docker compose ps and docker compose logs; v1\.1\.0 ran against the database meanwhile: .+ --yes\)$/,
      );
      expect(await version(dir)).toBe('v1.0.0');
    });
  });

  describe('shipped files the operator edited (.shipped-files)', () => {
    const record = (dir: string) => readFile(join(dir, '.shipped-files'), 'utf8');
    const recordMatches = async (dir: string) => (await execa('sha256sum', ['-c', '--quiet', '.shipped-files'], { cwd: dir, reject: false })).exitCode === 0;
    const prometheus = 'configs/prometheus/prometheus.yml';
    const header = (from: string, to: string) =>
      `these files differ from what ${from} shipped; upgrading replaces them with ${to}'s and keeps the edited copies in .rollback/ only until the next upgrade (copy what you need into .env or data/, or re-apply the edits after):`;
    const refusal = (count: number) => `upgrade.sh: ${count} file(s) differ from what v1.0.0 shipped (listed above); nothing was changed; keep a copy of your edits, then run it again with --replace-edited`;
    /** The block of lines from `first` on, as long as they are list lines. */
    const block = (stdout: string, first: string) => {
      const lines = stdout.split('\n');
      const at = lines.indexOf(first);
      if (at < 0) return [];
      const end = lines.findIndex((line, index) => index > at && !line.startsWith('  '));
      return lines.slice(at, end < 0 ? undefined : end);
    };
    async function editPrometheus(dir: string): Promise<string> {
      const edited = `${await readFile(join(dir, prometheus), 'utf8')}# scrape the operator's own exporter\n`;
      await writeFile(join(dir, prometheus), edited);
      return edited;
    }

    it('an untouched install lists nothing, upgrades without a flag and then holds the new release’s record', async () => {
      const dir = await runningInstall();
      const before = await record(dir);
      const result = await upgrade(dir, []);
      expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.1.0.tar.gz...' });
      expect(result.stdout).not.toMatch(/shipped|\.shipped-files|discards/);
      expect(await version(dir)).toBe('v1.1.0');
      expect(await record(dir)).not.toBe(before);
      expect(await record(dir)).toMatch(/  \.env\.example$/m);
      expect(await recordMatches(dir)).toBe(true);
    });

    it("keeps the owner and mode of data/, backups/ and the directories in them, which the operator or a service's container set: only missing ones are made", async () => {
      const dir = await runningInstall();
      const directories = ['data', 'backups', ...(await readdir(join(dir, 'data'), { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => `data/${entry.name}`)];
      expect(directories.length).toBeGreaterThan(2);
      // As postgres's image (uid 70) and backup.sh (mode 700) leave them.
      const owner = process.getuid?.() === 0 ? 70 : process.getuid?.();
      for (const path of directories) {
        await chmod(join(dir, path), 0o700);
        if (owner === 70) await chown(join(dir, path), 70, 70);
      }
      const result = await upgrade(dir, []);
      expect(result.exitCode).toBe(0);
      expect(await version(dir)).toBe('v1.1.0');
      const after = await Promise.all(directories.map(async (path) => [path, ((await stat(join(dir, path))).mode & 0o7777).toString(8), (await stat(join(dir, path))).uid] as const));
      expect(after).toEqual(directories.map((path) => [path, '700', owner]));
    });

    it('an edited config and a file added beside the shipped ones are listed before anything moves, and the upgrade is refused without --replace-edited, changing nothing', async () => {
      const dir = await runningInstall();
      await editPrometheus(dir);
      await writeFile(join(dir, 'nginx/conf.d/extra.conf'), 'server_tokens off;\n');
      const before = await treeHash(dir);
      const callsBefore = (await stub.calls()).length;

      const result = await upgrade(dir, []);
      expect(result.exitCode).toBe(1);
      expect(result.stderr.split('\n')).toEqual(['downloading changemaker-lite-v1.1.0.tar.gz...', refusal(2)]);
      expect(block(result.stdout, header('v1.0.0', 'v1.1.0'))).toEqual([header('v1.0.0', 'v1.1.0'), `  edited  ${prometheus}`, '  added   nginx/conf.d/extra.conf']);
      // Refused before the backup and the swap: the tree, backups/ included, is as it was, and nothing was pulled or restarted.
      expect(await treeHash(dir)).toBe(before);
      expect((await stub.calls()).slice(callsBefore).filter((call) => !/ (inspect|compose ps|compose version|version --format)/.test(call))).toEqual([]);
      expect(await version(dir)).toBe('v1.0.0');
    });

    it("an operator's own top-level file that the new release starts to ship (docker-compose.override.yml) is listed as added, and the upgrade refused without --replace-edited", async () => {
      const dir = await runningInstall();
      await writeFile(join(dir, 'docker-compose.override.yml'), '# the operator\'s own\n');
      const before = await treeHash(dir);
      const result = await upgrade(dir, []);
      expect(result.exitCode).toBe(1);
      expect(result.stderr.split('\n')).toEqual(['downloading changemaker-lite-v1.1.0.tar.gz...', refusal(1)]);
      expect(block(result.stdout, header('v1.0.0', 'v1.1.0'))).toEqual([header('v1.0.0', 'v1.1.0'), '  added   docker-compose.override.yml']);
      expect(await treeHash(dir)).toBe(before);
    });

    it('a deleted shipped file is listed', async () => {
      const dir = await runningInstall();
      await rm(join(dir, 'nginx/conf.d/default.conf.template'));
      const result = await upgrade(dir, []);
      expect(result.exitCode).toBe(1);
      expect(block(result.stdout, header('v1.0.0', 'v1.1.0'))).toEqual([header('v1.0.0', 'v1.1.0'), '  deleted nginx/conf.d/default.conf.template']);
      expect(result.stderr.split('\n').at(-1)).toBe(refusal(1));
      expect(existsSync(join(dir, 'nginx/conf.d/default.conf.template'))).toBe(false);
    });

    it('--replace-edited lists them and upgrades, the edited copies kept in .rollback/; the next upgrade names them as it discards them', async () => {
      const dir = await runningInstall();
      const edited = await editPrometheus(dir);
      const shipped = await readFile(join(dir, prometheus), 'utf8').then((text) => text.slice(0, -"# scrape the operator's own exporter\n".length));

      const up = await upgrade(dir, ['--replace-edited']);
      expect({ exitCode: up.exitCode, stderr: up.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.1.0.tar.gz...' });
      const lines = up.stdout.split('\n');
      // Listed before the backup and the swap.
      expect(lines.indexOf(header('v1.0.0', 'v1.1.0'))).toBeLessThan(lines.indexOf('dumping database changemaker...'));
      expect(block(up.stdout, header('v1.0.0', 'v1.1.0'))).toEqual([header('v1.0.0', 'v1.1.0'), `  edited  ${prometheus}`]);
      expect(await version(dir)).toBe('v1.1.0');
      expect(await readFile(join(dir, prometheus), 'utf8')).toBe(shipped);
      expect(await readFile(join(dir, '.rollback', prometheus), 'utf8')).toBe(edited);
      expect(await recordMatches(dir)).toBe(true);

      await stub.registry({ [postgresImage]: digest('postgres'), [apiImage('v1.2.0')]: digest('api v1.2.0') });
      const next = await upgrade(dir, ['--version', 'v1.2.0']);
      expect({ exitCode: next.exitCode, stderr: next.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.2.0.tar.gz...' });
      const discarding = "upgrading discards .rollback/ and the edited copies of v1.0.0's files it kept since the last upgrade:";
      expect(block(next.stdout, discarding)).toEqual([discarding, `  edited  ${prometheus}`]);
      expect(next.stdout).not.toContain('these files differ');
      expect(await version(dir)).toBe('v1.2.0');
      expect(await readFile(join(dir, '.rollback/VERSION'), 'utf8')).toBe('v1.1.0\n');
    });

    it('a rollback, asked for or after a failed start, restores the record of the release it returns to', async () => {
      const dir = await runningInstall();
      const before = await record(dir);
      expect((await upgrade(dir, [])).exitCode).toBe(0);
      const upgraded = await record(dir);
      expect(upgraded).not.toBe(before);
      const back = await upgrade(dir, ['--rollback']);
      expect({ exitCode: back.exitCode, stderr: back.stderr }).toEqual({ exitCode: 0, stderr: '' });
      expect(await record(dir)).toBe(before);
      expect(await recordMatches(dir)).toBe(true);

      await stub.play('v1.1.0', 'unhealthy');
      const failed = await upgrade(dir, []);
      expect(failed.exitCode).toBe(1);
      expect(await version(dir)).toBe('v1.0.0');
      expect(await record(dir)).toBe(before);
    });

    it('a rollback lists the files edited or added since the upgrade, which it would remove with no copy kept, and is refused without --replace-edited, in a dry run too', async () => {
      const dir = await runningInstall();
      expect((await upgrade(dir, [])).exitCode).toBe(0);
      const edited = await editPrometheus(dir);
      await writeFile(join(dir, 'nginx/conf.d/extra.conf'), 'server_tokens off;\n');
      const before = await treeHash(dir);
      const listing = [
        "these files differ from what v1.1.0 shipped; returning to v1.0.0 removes them and keeps no copy:",
        `  edited  ${prometheus}`,
        '  added   nginx/conf.d/extra.conf',
      ];
      for (const flags of [['--rollback'], ['--rollback', '--dry-run']]) {
        const refused = await upgrade(dir, flags);
        expect({ exitCode: refused.exitCode, stderr: refused.stderr }).toEqual({
          exitCode: 1,
          stderr: 'upgrade.sh: 2 file(s) differ from what v1.1.0 shipped (listed above); nothing was changed; keep a copy of your edits, then run it again with --replace-edited',
        });
        expect(block(refused.stdout, listing[0]!)).toEqual(listing);
        expect(await treeHash(dir)).toBe(before);
      }
      expect(await readFile(join(dir, prometheus), 'utf8')).toBe(edited);
      const back = await upgrade(dir, ['--rollback', '--replace-edited']);
      expect(back.exitCode).toBe(0);
      expect(await version(dir)).toBe('v1.0.0');
      expect(await recordMatches(dir)).toBe(true);
    });

    it('--dry-run lists the edited files and changes nothing; it refuses as the upgrade would, and with --replace-edited says what it would do', async () => {
      const dir = await runningInstall();
      await editPrometheus(dir);
      await rm(join(dir, 'configs/alertmanager/alertmanager.yml'));
      const before = await treeHash(dir);
      const callsBefore = (await stub.calls()).length;
      const downloadsBefore = gitea.requests().filter((request) => !request.url.startsWith('/api/')).length;

      const refused = await upgrade(dir, ['--dry-run']);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toBe(refusal(2));
      const listed = [header('v1.0.0', 'v1.1.0'), '  deleted configs/alertmanager/alertmanager.yml', `  edited  ${prometheus}`];
      expect(refused.stdout.split('\n')).toEqual(['upgrade available: v1.0.0 -> v1.1.0', ...listed]);

      const would = await upgrade(dir, ['--dry-run', '--replace-edited']);
      expect({ exitCode: would.exitCode, stderr: would.stderr }).toEqual({ exitCode: 0, stderr: '' });
      expect(would.stdout.split('\n').slice(0, -1)).toEqual(['upgrade available: v1.0.0 -> v1.1.0', ...listed]);
      expect(would.stdout.split('\n').at(-1)).toMatch(/^would download v1\.1\.0 /);

      expect(await treeHash(dir)).toBe(before);
      expect((await stub.calls()).slice(callsBefore).filter((call) => !/ (compose version|version --format \S+)$/.test(call))).toEqual([]);
      expect(gitea.requests().filter((request) => !request.url.startsWith('/api/')).length).toBe(downloadsBefore);
    });

    it('an installation without a record (installed by an older release) says once that it cannot tell, upgrades, and a rollback takes the new record away again', async () => {
      const dir = await runningInstall();
      await rm(join(dir, '.shipped-files'));
      await editPrometheus(dir);
      const cannotTell = 'no .shipped-files here (installed by a release older than this script): files edited since v1.0.0 was installed cannot be told apart; going on';

      const dry = await upgrade(dir, ['--dry-run']);
      expect({ exitCode: dry.exitCode, stdout: dry.stdout.split('\n').slice(0, 2) }).toEqual({ exitCode: 0, stdout: ['upgrade available: v1.0.0 -> v1.1.0', cannotTell] });

      const up = await upgrade(dir, []);
      expect({ exitCode: up.exitCode, stderr: up.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.1.0.tar.gz...' });
      expect(up.stdout.split('\n').filter((line) => line === cannotTell)).toHaveLength(1);
      expect(up.stdout).not.toContain('these files differ');
      expect(await version(dir)).toBe('v1.1.0');
      expect(await recordMatches(dir)).toBe(true);

      const back = await upgrade(dir, ['--rollback']);
      expect(back.exitCode).toBe(0);
      expect(existsSync(join(dir, '.shipped-files'))).toBe(false);
      expect(await version(dir)).toBe('v1.0.0');
    });
  });

  describe('image digests', () => {
    /** v0.9.0 installed and started the verified way (install.sh --start), which records image digests: its images as they run. */
    async function verifiedStartOfV090(): Promise<{ dir: string; running: Record<string, string> }> {
      const dir = join(place, 'changemaker-lite');
      await stub.registry({ [postgresImage]: digest('postgres'), [apiImage('v0.9.0')]: digest('api v0.9.0') });
      const started = await install(['--allowed-signers', allowedSigners, '--version', 'v0.9.0', '--dir', dir, '--start', '--health-timeout', '5']);
      expect(started.exitCode).toBe(0);
      const running = { [postgresImage]: digest('postgres'), [apiImage('v0.9.0')]: digest('api v0.9.0') };
      expect(await stub.localImages()).toEqual(running);
      return { dir, running };
    }

    it('pulled images that match image-digests.txt start', async () => {
      const dir = await runningInstall();
      await stub.registry({ [postgresImage]: digest('postgres'), [apiImage('v1.2.0')]: digest('api v1.2.0') });
      const result = await upgrade(dir, ['--version', 'v1.2.0']);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain('every image matches the digest its release recorded');
      expect(await stub.running()).toBe('v1.2.0 healthy');
    });

    it('a tag pushed again after the release is refused before anything restarts; the previous files come back, the pulled images are untagged, and nothing restarts', async () => {
      const dir = await runningInstall();
      await stub.registry({ [postgresImage]: digest('postgres'), [apiImage('v1.2.0')]: digest('api pushed again') });
      const result = await upgrade(dir, ['--version', 'v1.2.0']);
      expect(result.exitCode).toBe(1);
      expect(result.stderr.split('\n').at(-1)).toBe(
        `upgrade.sh: v1.2.0 was not started: api's image ${apiImage('v1.2.0')} is not the one v1.2.0 was cut with (expected ${digest('api v1.2.0')}); the tag was pushed again; v1.0.0's files are back, and nothing was stopped: v1.0.0 runs on as it did before the upgrade`,
      );
      expect((await stub.calls()).filter((call) => / compose (up|down)/.test(call))).toEqual(['v1.0.0 compose up -d --remove-orphans']);
      expect(await stub.running()).toBe('v1.0.0 healthy');
      expect(await version(dir)).toBe('v1.0.0');
      // The pull's images named by no tag: no later `docker compose up` starts what the check refused.
      expect(await stub.localImages()).toEqual({});
      expect(result.stdout.split('\n')).toEqual(
        expect.arrayContaining([
          `${postgresImage}: untagged the image the pull fetched (nothing had this tag before)`,
          `${apiImage('v1.2.0')}: untagged the image the pull fetched (nothing had this tag before)`,
        ]),
      );
    });

    it('a third-party tag both releases run, pushed again: refused, and the tag names the image that runs again, so that no restart (the boot unit\'s docker compose up) starts the refused one', async () => {
      const { dir, running } = await verifiedStartOfV090();

      await stub.registry({ [postgresImage]: digest('postgres pushed again'), [apiImage('v1.2.0')]: digest('api v1.2.0') });
      const result = await upgrade(dir, ['--version', 'v1.2.0']);
      expect(result.exitCode).toBe(1);
      expect(result.stderr.split('\n').at(-1)).toBe(
        `upgrade.sh: v1.2.0 was not started: v2-postgres's image ${postgresImage} is not the one v1.2.0 was cut with (expected ${digest('postgres')}); the tag was pushed again; v0.9.0's files are back, and nothing was stopped: v0.9.0 runs on as it did before the upgrade`,
      );
      expect(result.stdout.split('\n')).toEqual(expect.arrayContaining([`${postgresImage}: tagged the image it named before the pull again`]));
      expect(await stub.localImages()).toEqual(running);
      expect((await stub.calls()).filter((call) => / compose (pull|up|down)/.test(call))).toEqual(['v0.9.0 compose pull', 'v0.9.0 compose up -d --remove-orphans', 'v1.2.0 compose pull']);
      expect(await stub.running()).toBe('v0.9.0 healthy');
    });

    it('a pull cut off part-way (a registry outage) puts back the tags it had moved, and the previous release runs on', async () => {
      const { dir, running } = await verifiedStartOfV090();

      await stub.registry({ [postgresImage]: digest('postgres pushed again'), [apiImage('v1.2.0')]: digest('api v1.2.0') });
      await stub.pullFails();
      const result = await upgrade(dir, ['--version', 'v1.2.0']);
      expect(result.exitCode).toBe(1);
      expect(result.stderr.split('\n').at(-1)).toBe(
        "upgrade.sh: v1.2.0 was not started: pulling the images failed (see above); v0.9.0's files are back, and nothing was stopped: v0.9.0 runs on as it did before the upgrade",
      );
      // The tag the pull moved names the image that runs again; the one it added stays, so a retry does not download it again.
      expect(await stub.localImages()).toEqual({ ...running, [apiImage('v1.2.0')]: digest('api v1.2.0') });
      expect(await stub.running()).toBe('v0.9.0 healthy');
      expect(await version(dir)).toBe('v0.9.0');
    });

    it('upgrade.sh stopped by a signal during the pull puts the tags it had moved back before its stop line', async () => {
      const { dir, running } = await verifiedStartOfV090();

      await stub.registry({ [postgresImage]: digest('postgres pushed again'), [apiImage('v1.2.0')]: digest('api v1.2.0') });
      await writeFile(join(stub.dir, 'pull-waits'), '');
      const upgrading = detached(join(dir, 'scripts/upgrade.sh'), ['--version', 'v1.2.0', '--health-timeout', '5'], dir);
      await waitFor(async () => existsSync(join(stub.dir, 'pull-waiting')));
      signalGroup(upgrading.pid, 'SIGTERM');
      const result = await upgrading;
      const lines = result.stderr.split('\n');
      expect({ exitCode: result.exitCode, last: lines.at(-1) }).toEqual({
        exitCode: 143,
        last: `upgrade.sh: stopped by SIGTERM; the new release's files are in place, or some of them, and the previous ones are in .rollback/; bash ${shellWord(`${dir}/scripts/upgrade.sh`)} --rollback puts them back`,
      });
      expect(lines.at(-2)).toBe(`${postgresImage}: tagged the image it named before the pull again`);
      expect(await stub.localImages()).toEqual({ ...running, [apiImage('v1.2.0')]: digest('api v1.2.0') });
      expect(await stub.running()).toBe('v0.9.0 healthy');
    });

    it('--rollback to a release whose image was pushed again refuses to start it, puts the tag back, and leaves what runs running', async () => {
      const { dir } = await verifiedStartOfV090();
      await stub.registry({ [postgresImage]: digest('postgres'), [apiImage('v1.2.0')]: digest('api v1.2.0') });
      expect((await upgrade(dir, ['--version', 'v1.2.0'])).exitCode).toBe(0);
      const upgraded = await stub.localImages();

      await stub.registry({ [postgresImage]: digest('postgres'), [apiImage('v0.9.0')]: digest('api v0.9.0 pushed again') });
      const back = await upgrade(dir, ['--rollback']);
      expect(back.exitCode).toBe(1);
      expect(back.stderr.split('\n').at(-1)).toBe(
        `upgrade.sh: v0.9.0's files are back, but it was not started: api's image ${apiImage('v0.9.0')} is not the one v0.9.0 was cut with (expected ${digest('api v0.9.0')}); the tag was pushed again; nothing was stopped, so what ran before the rollback runs on; once that is fixed, start it with: cd ${shellWord(dir)} && docker compose up -d (unchecked: this release's scripts/upgrade.sh predates --start, so nothing checks its images against the release's digests; install.sh --start does)`,
      );
      expect(await stub.localImages()).toEqual(upgraded);
      expect(await stub.running()).toBe('v1.2.0 healthy');
    });

    it('IMAGE_TAG in .env is reported and the workspace images are not checked', async () => {
      const dir = await runningInstall();
      await writeFile(join(dir, '.env'), (await readFile(join(dir, '.env'), 'utf8')).replace(/^IMAGE_TAG=.*$/m, 'IMAGE_TAG=latest'));
      await stub.registry({ [postgresImage]: digest('postgres') });
      const result = await upgrade(dir, ['--version', 'v1.2.0']);
      expect(result.exitCode).toBe(0);
      expect(result.stdout.split('\n')).toEqual(
        expect.arrayContaining([
          "note: IMAGE_TAG=latest (from .env or the environment) overrides v1.2.0's image tag",
          "api: IMAGE_TAG=latest (from .env or the environment) overrides the release's image; its digest is not checked",
          'every image matches the digest its release recorded',
        ]),
      );
    });
  });

  describe('a first start, verified as an upgrade is: install.sh --start, and upgrade.sh --start later', () => {
    const matching = () => stub.registry({ [postgresImage]: digest('postgres'), [apiImage('v1.2.0')]: digest('api v1.2.0') });
    const pushedAgain = () => stub.registry({ [postgresImage]: digest('postgres'), [apiImage('v1.2.0')]: digest('api pushed again') });
    const startAt = (dir: string) => install(['--allowed-signers', allowedSigners, '--version', 'v1.2.0', '--dir', dir, '--start', '--health-timeout', '5']);
    /** The stub's calls that pull, start or stop something. */
    const actions = async () => (await stub.calls()).filter((call) => / compose (pull|up|logs|down)/.test(call));
    const logsHeader = (whose: string) => `--- ${whose}'s last 30 log lines, before docker compose down removes them ---`;
    const logsEnd = (whose: string) => `--- end of ${whose}'s log lines ---`;
    const refusedDigest = (dir: string) =>
      `install.sh: v1.2.0 was not started: api's image ${apiImage('v1.2.0')} is not the one v1.2.0 was cut with (expected ${digest('api v1.2.0')}); the tag was pushed again; nothing runs, the files stay in ${dir}; do not start it by hand: ask the release's publisher why the tag changed, or install another release`;

    it('with matching digests installs, configures, pulls, checks every image, starts and waits until healthy', async () => {
      await matching();
      const dir = join(place, 'changemaker-lite');
      const result = await startAt(dir);
      expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.2.0.tar.gz...' });
      const lines = result.stdout.split('\n');
      expect(lines).toEqual(expect.arrayContaining([`installed v1.2.0 into ${dir}`, 'every image matches the digest its release recorded', 'waiting up to 5s for every service to be healthy...']));
      expect(lines.at(-1)).toBe('v1.2.0 is running: every service is healthy and /api/health answers ok');
      expect(await readFile(join(dir, '.env'), 'utf8')).toMatch(/^DOMAIN=example\.org$/m);
      expect(await stub.running()).toBe('v1.2.0 healthy');
      expect(await actions()).toEqual(['v1.2.0 compose pull', 'v1.2.0 compose up -d --remove-orphans']);
    });

    it('an image whose tag was pushed again is refused before anything starts, in one line; the files stay', async () => {
      await pushedAgain();
      const dir = join(place, 'changemaker-lite');
      const result = await startAt(dir);
      expect({ exitCode: result.exitCode, stderr: result.stderr.split('\n') }).toEqual({ exitCode: 1, stderr: ['downloading changemaker-lite-v1.2.0.tar.gz...', refusedDigest(dir)] });
      expect(await actions()).toEqual(['v1.2.0 compose pull']);
      expect(await stub.running()).toBeUndefined();
      // Nothing the pull fetched keeps a tag: a `docker compose up -d` by hand would pull again, not start the refused image.
      expect(await stub.localImages()).toEqual({});
      expect(await version(dir)).toBe('v1.2.0');
      expect(existsSync(join(dir, '.env'))).toBe(true);
    });

    it.each([
      ['crash-loop', 'api is crash-looping (restarting)'],
      ['unhealthy', 'api failed its health check'],
    ] as const)('a release that does not come up (%s) fails non-zero and is brought down again, there being nothing to go back to', async (scenario, problem) => {
      await matching();
      await stub.play('v1.2.0', scenario);
      const dir = join(place, 'changemaker-lite');
      const result = await startAt(dir);
      expect(result.exitCode).toBe(1);
      // The failing service's last log lines, headed, before `down` removes them with the containers; the one-line error last.
      expect(result.stderr.split('\n')).toEqual([
        'downloading changemaker-lite-v1.2.0.tar.gz...',
        `v1.2.0 did not come up: ${problem}; stopping it (docker compose down): there is no previous release to go back to`,
        logsHeader('api'),
        `api-1  | stub log of api in v1.2.0 (${scenario})`,
        logsEnd('api'),
        `install.sh: v1.2.0 did not come up: ${problem}; it is stopped (docker compose down), nothing runs, and the files stay in ${dir}; find the cause (its logs are above), then start it again with: cd ${shellWord(dir)} && scripts/upgrade.sh --start`,
      ]);
      expect(await actions()).toEqual(['v1.2.0 compose pull', 'v1.2.0 compose up -d --remove-orphans', 'v1.2.0 compose logs --no-color --tail 30 api', 'v1.2.0 compose down']);
      expect(await stub.running()).toBeUndefined();
      expect(await version(dir)).toBe('v1.2.0');
    });

    it('upgrade.sh --start whose /api/health never answers ok shows every service\'s last log lines, then brings it down', async () => {
      const dir = join(place, 'changemaker-lite');
      expect((await install(['--allowed-signers', allowedSigners, '--version', 'v1.2.0', '--dir', dir])).exitCode).toBe(0);
      await matching();
      const result = await upgrade(dir, ['--start', '--health-timeout', '3'], { HEALTH_URL: 'http://127.0.0.1:9/api/health' });
      const problem = 'not healthy after 3s: /api/health does not answer {"status":"ok"}';
      expect(result.exitCode).toBe(1);
      const lines = result.stderr.split('\n');
      expect(lines.slice(0, 2)).toEqual([`v1.2.0 did not come up: ${problem}; stopping it (docker compose down): there is no previous release to go back to`, logsHeader('every service')]);
      expect(lines).toEqual(expect.arrayContaining([`api-1  | stub log of api in v1.2.0 (healthy)`, `v2-postgres-1  | stub log of v2-postgres in v1.2.0 (healthy)`]));
      expect(lines.at(-2)).toBe(logsEnd('every service'));
      expect(lines.at(-1)).toBe(`upgrade.sh: v1.2.0 did not come up: ${problem}; it is stopped (docker compose down), nothing runs, and the files stay in ${dir}; find the cause (its logs are above), then start it again with: cd ${shellWord(dir)} && scripts/upgrade.sh --start`);
      expect(await actions()).toEqual(['v1.2.0 compose pull', 'v1.2.0 compose up -d --remove-orphans', 'v1.2.0 compose logs --no-color --tail 30', 'v1.2.0 compose down']);
      expect(await stub.running()).toBeUndefined();
    });

    it('an older release whose upgrade.sh predates --start: the hint names no option it refuses, and install.sh --start still checks and starts it', async () => {
      const dir = join(place, 'changemaker-lite');
      const installed = await install(['--allowed-signers', allowedSigners, '--version', 'v0.9.0', '--dir', dir]);
      expect({ exitCode: installed.exitCode, stderr: installed.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v0.9.0.tar.gz...' });
      const unchecked = `cd ${shellWord(dir)} && docker compose up -d (unchecked: this release's scripts/upgrade.sh predates --start, so nothing checks its images against the release's digests; install.sh --start does)`;
      expect(installed.stdout.split('\n').at(-1)).toBe(`start it with: ${unchecked}`);
      // What the hint would have named is refused by that release.
      const refused = await execa('bash', [join(dir, 'scripts/upgrade.sh'), '--start'], { cwd: dir, env: env(), extendEnv: false, reject: false, input: '' });
      expect({ exitCode: refused.exitCode, stderr: refused.stderr }).toEqual({ exitCode: 1, stderr: 'upgrade.sh: unknown option --start; see --help' });
      expect(await actions()).toEqual([]);

      // install.sh --start uses its own functions: the images are checked against v0.9.0's digests, then started.
      await stub.registry({ [postgresImage]: digest('postgres'), [apiImage('v0.9.0')]: digest('api v0.9.0') });
      const startedDir = join(place, 'started');
      const started = await install(['--allowed-signers', allowedSigners, '--version', 'v0.9.0', '--dir', startedDir, '--start', '--health-timeout', '5']);
      expect({ exitCode: started.exitCode, stderr: started.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v0.9.0.tar.gz...' });
      expect(started.stdout.split('\n')).toEqual(expect.arrayContaining(['every image matches the digest its release recorded']));
      expect(started.stdout.split('\n').at(-1)).toBe('v0.9.0 is running: every service is healthy and /api/health answers ok');
      expect(await stub.running()).toBe('v0.9.0 healthy');
      await execa('docker', ['compose', 'down'], { cwd: startedDir, env: env(), extendEnv: false });

      // A failed start of it sends the operator to a command that release has.
      await stub.play('v0.9.0', 'crash-loop');
      const failedDir = join(place, 'failed');
      const failed = await install(['--allowed-signers', allowedSigners, '--version', 'v0.9.0', '--dir', failedDir, '--start', '--health-timeout', '5']);
      expect(failed.exitCode).toBe(1);
      expect(failed.stderr.split('\n').at(-1)).toBe(
        `install.sh: v0.9.0 did not come up: api is crash-looping (restarting); it is stopped (docker compose down), nothing runs, and the files stay in ${failedDir}; find the cause (its logs are above), then start it again with: ${unchecked.replaceAll(shellWord(dir), shellWord(failedDir))}`,
      );
    });

    it('--dry-run --start says what it would pull and check, downloads nothing and changes nothing', async () => {
      await matching();
      const downloadsBefore = gitea.requests().filter((request) => !request.url.startsWith('/api/')).length;
      const dir = join(place, 'changemaker-lite');
      const result = await install(['--allowed-signers', allowedSigners, '--version', 'v1.2.0', '--dir', dir, '--start', '--dry-run']);
      expect(result).toMatchObject({
        exitCode: 0,
        stderr: '',
        stdout: `would install v1.2.0 from ${gitea.url} (admin/changemaker.lite) into ${dir} and run config.sh, then pull the images its docker-compose.yml names, check each against the digest its image-digests.txt records, start them only if all match and wait up to 180s for every service to be healthy (stopping them again if not)`,
      });
      expect((await readdir(place)).filter((name) => name !== '.docker-stub')).toEqual([]);
      expect((await stub.calls()).filter((call) => !/ (compose version|version --format \S+)$/.test(call))).toEqual([]);
      expect(gitea.requests().filter((request) => !request.url.startsWith('/api/')).length).toBe(downloadsBefore);
    });

    it('--start without the .env config.sh writes (--no-config) is refused before anything is downloaded', async () => {
      const result = await install(['--allowed-signers', allowedSigners, '--version', 'v1.2.0', '--dir', join(place, 'changemaker-lite'), '--start', '--no-config']);
      expect(result).toMatchObject({
        exitCode: 1,
        stderr: 'install.sh: --start needs the .env that config.sh writes; leave out --no-config, or install without --start, run config.sh, then start it with scripts/upgrade.sh --start',
      });
      expect((await readdir(place)).filter((name) => name !== '.docker-stub')).toEqual([]);
    });

    it('installed without --start, the printed command starts it later the same way: scripts/upgrade.sh --start refuses a re-pushed image, then starts the recorded ones', async () => {
      const dir = join(place, 'changemaker-lite');
      const installed = await install(['--allowed-signers', allowedSigners, '--version', 'v1.2.0', '--dir', dir]);
      expect(installed.exitCode).toBe(0);
      const hint = installed.stdout.split('\n').at(-1)!;
      expect(hint).toBe(`start it, its images checked against the release's digests, with: cd ${shellWord(dir)} && scripts/upgrade.sh --start`);
      expect(await actions()).toEqual([]);

      await pushedAgain();
      const refused = await upgrade(dir, ['--start']);
      expect({ exitCode: refused.exitCode, stderr: refused.stderr }).toEqual({ exitCode: 1, stderr: refusedDigest(dir).replace(/^install\.sh/, 'upgrade.sh') });
      expect(await stub.running()).toBeUndefined();

      // An upgrade's options would do nothing with --start: refused, not ignored.
      for (const option of [['--no-restart'], ['--force', '--no-backup'], ['--allowed-signers', allowedSigners]]) {
        const mixed = await upgrade(dir, ['--start', ...option]);
        expect({ exitCode: mixed.exitCode, stdout: mixed.stdout, stderr: mixed.stderr }).toEqual({
          exitCode: 1,
          stdout: '',
          stderr: `upgrade.sh: --start starts the installed release and upgrades nothing, so ${option.filter((word) => word.startsWith('--')).join(' ')} would do nothing; leave it out`,
        });
      }
      expect(await stub.running()).toBeUndefined();

      const dry = await upgrade(dir, ['--start', '--dry-run']);
      expect(dry).toMatchObject({
        exitCode: 0,
        stdout: "would pull the images of v1.2.0 that docker-compose.yml names, check each against the digest its image-digests.txt records, start them only if all match and wait up to 5s for every service to be healthy (stopping them again if not)",
      });

      await matching();
      // The printed command as the operator runs it: scripts/upgrade.sh executable, run from the installation.
      const started = await execa('bash', ['-c', hint.slice(hint.indexOf('cd '))], { cwd: place, env: env(), extendEnv: false, reject: false, input: '' });
      expect({ exitCode: started.exitCode, stderr: started.stderr, last: started.stdout.split('\n').at(-1) }).toEqual({
        exitCode: 0,
        stderr: '',
        last: 'v1.2.0 is running: every service is healthy and /api/health answers ok',
      });
      expect(await stub.running()).toBe('v1.2.0 healthy');
      expect(await actions()).toEqual(['v1.2.0 compose pull', 'v1.2.0 compose pull', 'v1.2.0 compose up -d --remove-orphans']);
      // No download and no change to the files: the installed release, started.
      expect(await version(dir)).toBe('v1.2.0');
      expect(existsSync(join(dir, '.rollback'))).toBe(false);
    });

    it('install.sh --start stopped by a signal while it waits says in one line what runs and how to stop it', async () => {
      await matching();
      const dir = join(place, 'changemaker-lite');
      // Nothing answers /api/health: the start waits until the signal.
      const running = detached(installScript, ['--allowed-signers', allowedSigners, '--version', 'v1.2.0', '--dir', dir, '--start', '--health-timeout', '60'], place, {
        HEALTH_URL: 'http://127.0.0.1:9/api/health',
      });
      await waitFor(async () => (await stub.calls()).some((call) => call.includes('compose up')));
      signalGroup(running.pid, 'SIGTERM');
      const result = await running;
      const hint = `v1.2.0 in ${dir} was started but not seen healthy yet; check it (docker compose ps), or stop it: cd ${shellWord(dir)} && docker compose down`;
      if (bashFailedToParseTheTrap(result.stderr)) {
        // bash 5.2 cannot parse a trap that runs while it parses a $(…) (about 1 signal in 100 in a
        // loop of them, reproduced outside these scripts): it ends with status 2, never running
        // on_signal. The exit trap's line still says what runs and how to stop it.
        const last = result.stderr.split('\n').at(-1) ?? '';
        expect({ exitCode: result.exitCode, names: last.startsWith('install.sh: stopped unexpectedly (exit 2) at: '), hint: last.endsWith(`; ${hint}, and report the line above if it repeats`) }).toEqual({ exitCode: 2, names: true, hint: true });
      } else {
        // All of stderr when the signal's line is missing: the lines before it tell what ran.
        expect({ exitCode: result.exitCode, last: result.exitCode === 143 ? result.stderr.split('\n').at(-1) : result.stderr }).toEqual({ exitCode: 143, last: `install.sh: stopped by SIGTERM; ${hint}` });
      }
      expect((await readdir(place)).filter((name) => !name.startsWith('.docker-stub'))).toEqual(['changemaker-lite']);
    });
  });

  describe('signatures', () => {
    let goodTarball: Buffer;
    let goodSums: string;
    let goodSignature: Buffer;

    /** A pre-release (so "latest" stays v1.1.0) whose assets someone other than package-release put there. */
    function seed(tag: string, tarball: Buffer, sums: string, signature?: Buffer): void {
      let id = 0;
      const attachment = (name: string, bytes: Buffer) => ({ id: 7000 + id++ + tag.length * 10, uuid: `${tag}-${name}`, name, bytes, createdAt: new Date().toISOString() });
      const release: Partial<StoredRelease> & { tagName: string } = {
        tagName: tag,
        prerelease: true,
        attachments: [
          attachment(`changemaker-lite-${tag}.tar.gz`, tarball),
          attachment('SHA256SUMS', Buffer.from(sums)),
          ...(signature ? [attachment('SHA256SUMS.sig', signature)] : []),
        ],
      };
      gitea.addRelease(release);
    }
    const sumsFor = (tag: string, tarball: Buffer) => `${createHash('sha256').update(tarball).digest('hex')}  changemaker-lite-${tag}.tar.gz\n`;

    beforeAll(async () => {
      goodTarball = await readFile(join(scratch, 'v1.1.0/changemaker-lite-v1.1.0.tar.gz'));
      goodSums = await readFile(join(scratch, 'v1.1.0/SHA256SUMS'), 'utf8');
      goodSignature = await readFile(join(scratch, 'v1.1.0/SHA256SUMS.sig'));
      seed('v1.9.1', goodTarball, sumsFor('v1.9.1', goodTarball), await signWithKey(rogue, Buffer.from(sumsFor('v1.9.1', goodTarball))));
      const replaced = Buffer.from(goodTarball);
      replaced[replaced.length - 200] ^= 0xff;
      // The tarball and SHA256SUMS both replaced, as whoever holds a write token could; the signature left as it was.
      seed('v1.9.2', replaced, sumsFor('v1.9.2', replaced), goodSignature);
      seed('v1.9.3', goodTarball, sumsFor('v1.9.3', goodTarball));
    });

    it.each([
      ['v1.9.1', 're-signed with an unknown key', 'the signature of v1.9.1 is not by a trusted key: the release was changed or signed by someone else; nothing was changed (pass --insecure-skip-signature only if you know why)'],
      ['v1.9.2', 'tarball and SHA256SUMS both replaced', 'the signature of v1.9.2 is not by a trusted key: the release was changed or signed by someone else; nothing was changed (pass --insecure-skip-signature only if you know why)'],
      ['v1.9.3', 'unsigned', 'the release v1.9.3 is not signed (it has no SHA256SUMS.sig); ask its publisher to sign it, or pass --insecure-skip-signature to go on unverified; nothing was changed'],
    ])('%s (%s) is refused by install.sh and upgrade.sh with nothing written', async (tag, _what, reason) => {
      const fresh = await install(['--allowed-signers', allowedSigners, '--version', tag, '--dir', join(place, 'fresh'), '--no-config']);
      expect({ exitCode: fresh.exitCode, last: fresh.stderr.split('\n').at(-1) }).toEqual({ exitCode: 1, last: `install.sh: ${reason}` });
      expect((await readdir(place)).filter((name) => name !== '.docker-stub')).toEqual([]);

      const dir = await runningInstall();
      const before = await treeHash(dir);
      const up = await upgrade(dir, ['--version', tag]);
      expect({ exitCode: up.exitCode, last: up.stderr.split('\n').at(-1) }).toEqual({ exitCode: 1, last: `upgrade.sh: ${reason}` });
      expect(await treeHash(dir)).toBe(before);
      expect((await stub.calls()).filter((call) => call.includes('compose pull'))).toEqual([]);
    });

    it('a new key enters through a release signed by a trusted one, and then signs the next', async () => {
      const next = await throwawaySigningKey(join(scratch, 'keys'), 'next-key');
      const nextLine = (await readFile(next.allowedSigners, 'utf8')).trim();
      // Rotation: v1.5.0, signed by the current key, ships the next key beside it; v1.6.0 is signed by the next key only.
      await publish(gitea, 'v1.5.0', await packageRelease('v1.5.0', join(scratch, 'v1.5.0'), { signingKey: key, extraFiles: { allowed_signers: `${nextLine}\n` } }), true);
      await publish(gitea, 'v1.6.0', await packageRelease('v1.6.0', join(scratch, 'v1.6.0'), { signingKey: next.key }), true);
      const dir = await runningInstall();

      const tooEarly = await upgrade(dir, ['--version', 'v1.6.0']);
      expect(tooEarly.stderr.split('\n').at(-1)).toMatch(/^upgrade\.sh: the signature of v1\.6\.0 is not by a trusted key/);
      expect((await upgrade(dir, ['--version', 'v1.5.0'])).exitCode).toBe(0);
      expect(await readFile(join(dir, 'allowed_signers'), 'utf8')).toContain(nextLine);
      const rotated = await upgrade(dir, ['--version', 'v1.6.0']);
      expect(rotated.exitCode).toBe(0);
      expect(await version(dir)).toBe('v1.6.0');
    });

    it('the installation trusts the keys its release shipped: an upgrade needs no --allowed-signers', async () => {
      const dir = await runningInstall();
      expect(await readFile(join(dir, 'allowed_signers'), 'utf8')).toContain((await readFile(allowedSigners, 'utf8')).trim());
      expect(goodSums).toContain('changemaker-lite-v1.1.0.tar.gz');
      expect((await upgrade(dir, [])).exitCode).toBe(0);
    });

    it('without a trusted key install.sh refuses, and --insecure-skip-signature installs loudly', async () => {
      const refused = await install(['--version', 'v1.0.0', '--dir', join(place, 'a'), '--no-config']);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr.split('\n').at(-1)).toMatch(
        /^install\.sh: install\.sh trusts no release signing key \(.* lists none\); pass --allowed-signers FILE with the release manager's public key, or --insecure-skip-signature to go on unverified$/,
      );
      const skipped = await install(['--insecure-skip-signature', '--version', 'v1.0.0', '--dir', join(place, 'b'), '--no-config']);
      expect(skipped.exitCode).toBe(0);
      expect(skipped.stderr).toContain(`WARNING: --insecure-skip-signature: the signature of v1.0.0 is not checked; whoever can change the release on ${gitea.url} decides what runs here`);
    });

    it('the keys baked into install.sh are the ones docker/allowed_signers lists', async () => {
      const keyLines = (text: string) => text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
      const baked = bakedAllowedSigners(await readFile(installScript, 'utf8'));
      expect(baked).toBeDefined();
      expect(keyLines(baked!)).toEqual(keyLines(await readFile(join(workspaceRoot, 'docker/allowed_signers'), 'utf8')));
    });
  });

  describe('versions compare as semver', () => {
    const compare = async (a: string, b: string) =>
      (await execa('bash', ['-c', `source '${installScript}'; semver_compare "$1" "$2"`, 'semver', a, b])).stdout;

    it.each([
      ['v1.0.0-rc.1', 'v1.0.0', '-1'],
      ['v1.10.0', 'v1.9.0', '1'],
      ['v1.0.0-alpha', 'v1.0.0-alpha.1', '-1'],
      ['v1.0.0-alpha.1', 'v1.0.0-alpha.beta', '-1'],
      ['v1.0.0-beta.2', 'v1.0.0-beta.11', '-1'],
      ['v1.0.0-rc.1', 'v1.0.0-beta.11', '1'],
      ['v2.0.0', 'v10.0.0', '-1'],
      ['v1.2.3+build.5', 'v1.2.3', '0'],
      ['v1.2.3', 'v1.2.3', '0'],
    ])('%s against %s: %s', async (a, b, expected) => {
      expect(await compare(a, b)).toBe(expected);
    });

    it('a tag that is no version is named', async () => {
      const result = await execa('bash', ['-c', `source '${installScript}'; semver_compare latest v1.0.0`], { reject: false });
      expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 1, stderr: "install.sh: 'latest' is not a version like v1.2.3; releases must be tagged vMAJOR.MINOR.PATCH" });
    });

    it('a downgrade needs --force', async () => {
      const dir = await runningInstall('v1.1.0');
      const before = await treeHash(dir);
      const refused = await upgrade(dir, ['--version', 'v1.0.0']);
      expect({ exitCode: refused.exitCode, stderr: refused.stderr }).toEqual({
        exitCode: 1,
        stderr: 'upgrade.sh: v1.0.0 is older than v1.1.0: a downgrade may not read data v1.1.0 wrote; back up, then pass --force to downgrade',
      });
      expect(await treeHash(dir)).toBe(before);
      const forced = await upgrade(dir, ['--version', 'v1.0.0', '--force']);
      expect(forced.exitCode).toBe(0);
      expect(await version(dir)).toBe('v1.0.0');
    });
  });

  describe('signals and stopped swaps', () => {
    /** A script in its own process group, as a terminal's Ctrl-C or an ssh hangup reaches it with its children. */
    /** A tool on PATH that runs the real one after writing down that it was called. */
    async function pausingCurl(): Promise<{ path: string; reached: string }> {
      const bin = join(place, 'slow-bin');
      const reached = join(place, 'download-started');
      await mkdir(bin);
      const realCurl = (await execa('bash', ['-c', 'command -v curl'])).stdout;
      // The tarball's download hangs, as on a stalled link: the signal comes meanwhile.
      await writeFile(join(bin, 'curl'), `#!/bin/bash\ncase "$*" in *.tar.gz*) : >'${reached}'; exec sleep 30 ;; esac\nexec '${realCurl}' "$@"\n`, { mode: 0o755 });
      return { path: `${bin}:${stub.path}`, reached };
    }
    /** The release's files: what a rollback must put back as they were (.env gains the new release's keys, backups/ its dump). */
    async function releaseFiles(dir: string): Promise<string> {
      const kept = join(place, 'release-files');
      await rm(kept, { recursive: true, force: true });
      await execa('cp', ['-a', dir, kept]);
      await rm(join(kept, '.env'), { force: true });
      return treeHash(kept);
    }

    it.each([
      ['SIGINT', 130],
      ['SIGHUP', 129],
      ['SIGTERM', 143],
    ] as const)('install.sh stopped by %s says so in one line, leaves nothing behind and exits %i', async (signal, exitCode) => {
      const curl = await pausingCurl();
      const running = detached(installScript, ['--allowed-signers', allowedSigners, '--dir', join(place, 'changemaker-lite')], place, { PATH: curl.path });
      await waitFor(async () => existsSync(curl.reached));
      signalGroup(running.pid, signal);
      const result = await running;

      expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
        exitCode,
        stderr: `downloading changemaker-lite-v1.1.0.tar.gz...\ninstall.sh: stopped by ${signal}; nothing was installed; run it again`,
      });
      expect((await readdir(place)).filter((name) => !['.docker-stub', 'slow-bin', 'download-started'].includes(name))).toEqual([]);
    });

    it('upgrade.sh stopped before the swap changes nothing and says so', async () => {
      const dir = await runningInstall();
      const before = await treeHash(dir);
      const curl = await pausingCurl();
      const running = detached(join(dir, 'scripts/upgrade.sh'), ['--no-backup'], dir, { PATH: curl.path });
      await waitFor(async () => existsSync(curl.reached));
      signalGroup(running.pid, 'SIGINT');
      const result = await running;

      expect({ exitCode: result.exitCode, last: result.stderr.split('\n').at(-1) }).toEqual({ exitCode: 130, last: 'upgrade.sh: stopped by SIGINT; nothing was changed; run it again' });
      expect(await treeHash(dir)).toBe(before);
    });

    it('upgrade.sh stopped after the swap names the rollback, which brings the previous release back exactly', async () => {
      const dir = await runningInstall();
      const before = await releaseFiles(dir);
      // Nothing answers /api/health: the upgrade waits, files swapped, until the signal.
      const running = detached(join(dir, 'scripts/upgrade.sh'), ['--no-backup', '--health-timeout', '60'], dir, { HEALTH_URL: 'http://127.0.0.1:9/api/health' });
      await waitFor(async () => (await stub.calls()).includes('v1.1.0 compose up -d --remove-orphans'));
      signalGroup(running.pid, 'SIGTERM');
      const result = await running;

      const rollback = `bash ${shellWord(`${dir}/scripts/upgrade.sh`)} --rollback`;
      expect({ exitCode: result.exitCode, last: result.stderr.split('\n').at(-1) }).toEqual({
        exitCode: 143,
        last: `upgrade.sh: stopped by SIGTERM; the new release's files are in place, or some of them, and the previous ones are in .rollback/; ${rollback} puts them back`,
      });
      expect(await version(dir)).toBe('v1.1.0');
      const back = await execa('bash', ['-c', rollback], { cwd: place, env: env(), extendEnv: false, reject: false });
      expect({ exitCode: back.exitCode, stderr: back.stderr, last: back.stdout.split('\n').at(-1) }).toEqual({ exitCode: 0, stderr: '', last: 'v1.0.0 is running and healthy' });
      expect(await releaseFiles(dir)).toBe(before);
    });

    it('a signal while the files move does not cut the swap half-way: it is acted on once they have moved, before anything restarts', async () => {
      const dir = await runningInstall();
      const before = await releaseFiles(dir);
      const callsBefore = (await stub.calls()).length;
      const bin = join(place, 'signalling-bin');
      await mkdir(bin);
      const realMv = (await execa('bash', ['-c', 'command -v mv'])).stdout;
      // To the whole process group, as a terminal's Ctrl-C or systemd's stop reaches it.
      const signalGroup = `kill -TERM -- -$(ps -o pgid= -p $$ | tr -d ' ')`;
      await writeFile(join(bin, 'mv'), `#!/bin/bash\n'${realMv}' "$@" || exit\nif [ "$*" = 'VERSION .rollback/VERSION' ]; then ${signalGroup}; fi\n`, { mode: 0o755 });
      const result = await detached(join(dir, 'scripts/upgrade.sh'), ['--no-backup'], dir, { PATH: `${bin}:${stub.path}` });
      const rollback = `bash ${shellWord(`${dir}/scripts/upgrade.sh`)} --rollback`;
      expect({ exitCode: result.exitCode, last: result.stderr.split('\n').at(-1) }).toEqual({
        exitCode: 143,
        last: `upgrade.sh: stopped by SIGTERM; the new release's files are in place, or some of them, and the previous ones are in .rollback/; ${rollback} puts them back`,
      });
      expect(await version(dir)).toBe('v1.1.0');
      expect(existsSync(join(dir, '.rollback/.swap-in-progress'))).toBe(false);
      // Nothing pulled or restarted after the signal.
      expect((await stub.calls()).slice(callsBefore).filter((call) => / compose (pull|up|down)/.test(call))).toEqual([]);
      const back = await execa('bash', ['-c', rollback], { cwd: place, env: env(), extendEnv: false, reject: false });
      expect({ exitCode: back.exitCode, stderr: back.stderr }).toEqual({ exitCode: 0, stderr: '' });
      expect(await releaseFiles(dir)).toBe(before);
    });

    it('a signal while --rollback moves the files back is acted on once they are back, and says they are back', async () => {
      const dir = await runningInstall();
      const before = await releaseFiles(dir);
      expect((await upgrade(dir, ['--no-backup'])).exitCode).toBe(0);
      const callsBefore = (await stub.calls()).length;
      const bin = join(place, 'signalling-bin');
      await mkdir(bin);
      const realMv = (await execa('bash', ['-c', 'command -v mv'])).stdout;
      const signalGroup = `kill -TERM -- -$(ps -o pgid= -p $$ | tr -d ' ')`;
      await writeFile(join(bin, 'mv'), `#!/bin/bash\n'${realMv}' "$@" || exit\nif [ "$*" = '.rollback/VERSION VERSION' ]; then ${signalGroup}; fi\n`, { mode: 0o755 });
      const result = await detached(join(dir, 'scripts/upgrade.sh'), ['--rollback'], dir, { PATH: `${bin}:${stub.path}` });
      expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
        exitCode: 143,
        stderr: `upgrade.sh: stopped by SIGTERM; the previous files are back but were not started; start them, their images checked: cd ${shellWord(dir)} && scripts/upgrade.sh --start`,
      });
      expect(await releaseFiles(dir)).toBe(before);
      expect((await stub.calls()).slice(callsBefore).filter((call) => / compose (pull|up|down)/.test(call))).toEqual([]);
    });

    // Signals are held off while the files move; power loss or kill -9 is not. A mv on PATH kills the upgrade right after moving one entry away.
    it.each([
      ['VERSION', `scripts/upgrade.sh`],
      ['scripts', `.rollback/scripts/upgrade.sh`],
    ])('upgrade.sh killed right after moving %s away: the next run names the rollback, which restores the previous release exactly', async (entry, rollbackScript) => {
      const dir = await runningInstall();
      const before = await releaseFiles(dir);
      const bin = join(place, 'killing-bin');
      await mkdir(bin);
      const realMv = (await execa('bash', ['-c', 'command -v mv'])).stdout;
      // The whole process group: the moves run in a subshell of the upgrade.
      const killGroup = `kill -KILL -- -$(ps -o pgid= -p $$ | tr -d ' ')`;
      await writeFile(join(bin, 'mv'), `#!/bin/bash\n'${realMv}' "$@" || exit\nif [ "$*" = '${entry} .rollback/${entry}' ]; then ${killGroup}; fi\n`, { mode: 0o755 });

      const killed = await detached(join(dir, 'scripts/upgrade.sh'), ['--no-backup', '--no-restart'], dir, { PATH: `${bin}:${stub.path}` });
      expect(killed.signal).toBe('SIGKILL');
      expect(existsSync(join(dir, entry))).toBe(false);

      // The boot that follows a power loss mid-swap: the boot unit starts nothing.
      const boot = await bootUnitCheck(dir);
      expect({ exitCode: boot.exitCode, stderr: boot.stderr }).toEqual({
        exitCode: 1,
        stderr: 'an upgrade or rollback of this installation was stopped half-way, and .rollback/ holds the previous files: nothing was started; put them back with scripts/upgrade.sh --rollback (or .rollback/scripts/upgrade.sh --rollback when scripts/ is missing)',
      });

      const rollback = `bash ${shellWord(`${dir}/${rollbackScript}`)} --rollback`;
      const again = await execa('bash', [join(dir, rollbackScript)], { cwd: dir, env: env(), extendEnv: false, reject: false });
      expect({ exitCode: again.exitCode, stderr: again.stderr }).toEqual({
        exitCode: 1,
        stderr: `upgrade.sh: an upgrade or rollback was stopped half-way here (.rollback/ holds previous files); run ${rollback} to put them back, then upgrade again`,
      });
      const back = await execa('bash', ['-c', rollback], { cwd: place, env: env(), extendEnv: false, reject: false });
      expect({ exitCode: back.exitCode, stderr: back.stderr }).toEqual({ exitCode: 0, stderr: '' });
      expect(back.stdout.split('\n')).toEqual(expect.arrayContaining(['returned from an upgrade stopped half-way to v1.0.0', 'v1.0.0 is running and healthy']));
      expect(await releaseFiles(dir)).toBe(before);
      expect((await bootUnitCheck(dir)).exitCode).toBe(0);
      expect((await upgrade(dir, ['--no-backup'])).exitCode).toBe(0);
      expect(await version(dir)).toBe('v1.1.0');
      // A finished upgrade keeps .rollback/ until the next one: the boot unit starts it.
      expect(existsSync(join(dir, '.rollback'))).toBe(true);
      expect((await bootUnitCheck(dir)).exitCode).toBe(0);
    });

    // A power loss is not played here; what it would find is: a rename reaches the disk before the
    // data of the file it moves, so files unpacked a moment before could be in place but empty once
    // the marker is gone. The order of the calls is what keeps that from happening.
    it('the unpacked release is flushed to disk before any file moves, and the moves before the swap marker goes; a rollback flushes its moves before .rollback/ goes', async () => {
      const dir = await runningInstall();
      const bin = join(place, 'recording-bin');
      await mkdir(bin);
      const log = join(place, 'calls.log');
      for (const tool of ['mv', 'rm', 'sync']) {
        const real = (await execa('bash', ['-c', `command -v ${tool}`])).stdout;
        await writeFile(join(bin, tool), `#!/bin/bash\necho "${tool} $*" >>'${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
      }
      const calls = async () => (await readFile(log, 'utf8')).trim().split('\n');
      const up = await detached(join(dir, 'scripts/upgrade.sh'), ['--no-backup', '--no-restart'], dir, { PATH: `${bin}:${stub.path}` });
      expect({ exitCode: up.exitCode, stderr: up.stderr }).toEqual({ exitCode: 0, stderr: 'downloading changemaker-lite-v1.1.0.tar.gz...' });
      const swap = await calls();
      const markerGone = swap.indexOf('rm .rollback/.swap-in-progress');
      // The swap's moves; config.sh --add-missing moves its new .env in after it.
      const moves = swap.flatMap((call, index) => (call.startsWith('mv ') && index < markerGone ? [index] : []));
      const flushes = swap.flatMap((call, index) => (call.startsWith('sync ') ? [index] : []));
      expect(moves.length).toBeGreaterThan(3);
      expect(flushes.some((index) => index < moves[0]!)).toBe(true);
      expect(flushes.some((index) => index > moves.at(-1)! && index < markerGone)).toBe(true);

      await rm(log);
      const back = await detached(join(dir, 'scripts/upgrade.sh'), ['--rollback', '--no-restart'], dir, { PATH: `${bin}:${stub.path}` });
      expect({ exitCode: back.exitCode, stderr: back.stderr }).toEqual({ exitCode: 0, stderr: '' });
      const rollback = await calls();
      const lastMove = rollback.findLastIndex((call) => call.startsWith('mv .rollback/'));
      const rollbackGone = rollback.indexOf('rm -rf .rollback');
      expect(lastMove).toBeGreaterThan(-1);
      expect(rollback.slice(lastMove, rollbackGone).some((call) => call.startsWith('sync '))).toBe(true);
      expect(await version(dir)).toBe('v1.0.0');
    });
  });

  describe('no exit is silent', () => {
    it('--dry-run changes nothing (tree hashed before and after) and starts nothing', async () => {
      const dir = await runningInstall();
      const before = await treeHash(dir);
      const callsBefore = (await stub.calls()).length;
      const result = await upgrade(dir, ['--dry-run']);
      expect(result.exitCode).toBe(0);
      expect(await treeHash(dir)).toBe(before);
      expect((await stub.calls()).slice(callsBefore).filter((call) => !/ (compose version|version --format \S+)$/.test(call))).toEqual([]);
    });

    it('as a user the Docker daemon refuses (outside the docker group): one line with the way in, before any download, backup or swap', async () => {
      const dir = await runningInstall();
      const before = await treeHash(dir);
      const callsBefore = (await stub.calls()).length;
      await stub.refuseDaemon();
      const result = await upgrade(dir, []);
      expect({ exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }).toEqual({
        exitCode: 1,
        stdout: '',
        stderr:
          `upgrade.sh: cannot reach the Docker daemon as ${(await execa('id', ['-un'])).stdout} (permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: ` +
          'Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/version": dial unix /var/run/docker.sock: connect: permission denied): ' +
          `run it as a user of the docker group (sudo usermod -aG docker ${(await execa('id', ['-un'])).stdout}, then log in again), or with sudo; nothing was changed`,
      });
      expect(await treeHash(dir)).toBe(before);
      expect((await stub.calls()).slice(callsBefore)).toEqual(['v1.0.0 version --format {{.Server.Version}}']);
    });

    it('an unforeseen failure names the command that failed', async () => {
      const bin = join(place, 'broken-bin');
      await mkdir(bin);
      await writeFile(join(bin, 'dirname'), '#!/bin/sh\nexit 3\n');
      await chmod(join(bin, 'dirname'), 0o755);
      const result = await install(['--allowed-signers', allowedSigners, '--dir', join(place, 'x')], { PATH: `${bin}:${stub.path}` });
      expect(result.exitCode).toBe(3);
      expect(result.stderr).toBe('install.sh: stopped unexpectedly (exit 3) at: work="$(work_beside "$dir")"; nothing was installed; run it again, and report the line above if it repeats');
    });

    it('backup.sh when pg_dump fails, and config.sh --add-missing without a .env', async () => {
      const dir = await runningInstall();
      await rm(join(stub.dir, 'running'));
      const backup = await execa('bash', [join(dir, 'scripts/backup.sh')], { cwd: dir, env: env(), extendEnv: false, reject: false });
      expect({ exitCode: backup.exitCode, last: backup.stderr.split('\n').at(-1) }).toEqual({
        exitCode: 1,
        last: 'backup.sh: pg_dump through the v2-postgres container failed (see above); check that it runs: docker compose ps v2-postgres',
      });
      expect((await readdir(join(dir, 'backups'))).filter((name) => name.endsWith('.tar.gz'))).toEqual([]);

      await rm(join(dir, '.env'));
      const config = await execa('bash', [join(dir, 'config.sh'), '--add-missing'], { env: env(), extendEnv: false, reject: false });
      expect({ exitCode: config.exitCode, stderr: config.stderr }).toEqual({
        exitCode: 1,
        stderr: `config.sh: ${join(dir, '.env')} does not exist, so there is nothing to add keys to; run config.sh without --add-missing to create it`,
      });
    });
  });
});

/** bash's own line when it could not parse a trap's command (bash 5.2, a trap run while it parses a `$(…)`). */
function bashFailedToParseTheTrap(stderr: string): boolean {
  return /: trap: line \d+: unexpected EOF while looking for matching `\)'$/m.test(stderr);
}
