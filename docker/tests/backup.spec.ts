import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { setTimeout as sleep } from 'node:timers/promises';
import { shellWord } from './fixtures/releases';

const dockerDir = join(__dirname, '..');

/**
 * A `docker` on PATH that plays `compose exec -T v2-postgres pg_dump ...`: it logs its arguments,
 * one per line, to $STUB_DIR/calls, the file its output goes to in $STUB_DIR/dump-path, and writes
 * a small dump naming the database. With $STUB_DIR/slow present it first writes part of the dump,
 * touches $STUB_DIR/started and sleeps, as a long pg_dump does. It plays backup.sh's
 * `compose exec -T v2-postgres psql ...` listing the databases with the one it connects to.
 * The real thing, against a real PostgreSQL, is in backup-restore.spec.ts.
 */
const dockerStandIn = `#!/usr/bin/env bash
set -euo pipefail
if [[ "$*" == "compose exec -T v2-postgres psql -U "*" -d "*" -XAtc "* ]]; then printf '%s\\n' "$9"; exit 0; fi
[[ "$*" == "compose exec -T v2-postgres pg_dump "* ]] || { echo "docker stand-in: $* is not played" >&2; exit 97; }
printf '%s\\n' "$@" >"$STUB_DIR/calls"
readlink -f "/proc/$$/fd/1" >"$STUB_DIR/dump-path"
if [ -e "$STUB_DIR/slow" ]; then printf 'PGDMP partial'; touch "$STUB_DIR/started"; sleep 2; fi
printf 'PGDMP dump of %s\\n' "\${*: -1}"
`;

let install: string;
let stub: string;
beforeEach(async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'cm-backup-'));
  // A space in the path: backup.sh quotes it wherever it names it in a command.
  install = join(scratch, 'change maker');
  stub = join(scratch, 'stub');
  await mkdir(join(install, 'scripts'), { recursive: true });
  await mkdir(join(install, 'data/uploads'), { recursive: true });
  await mkdir(stub);
  await copyFile(join(dockerDir, 'scripts/backup.sh'), join(install, 'scripts/backup.sh'));
  await copyFile(join(dockerDir, 'scripts/env-file.sh'), join(install, 'scripts/env-file.sh'));
  await writeFile(join(install, 'data/uploads/poster.txt'), 'a poster\n');
  await writeFile(join(stub, 'docker'), dockerStandIn);
  await chmod(join(stub, 'docker'), 0o755);
});
afterEach(() => rm(join(install, '..'), { recursive: true, force: true }));

function backupSh(args: string[] = [], env: Record<string, string> = {}) {
  return execa('bash', [join(install, 'scripts/backup.sh'), ...args], {
    cwd: install,
    reject: false,
    env: { PATH: `${stub}:${process.env['PATH']}`, STUB_DIR: stub, ...env },
    extendEnv: false,
  });
}

it.each([
  ['backup.sh', ['--keep', '--dry-run', 'restore.sh']],
  ['restore.sh', ['--yes', 'pg_restore --list', '_before_restore_']],
])('%s --help prints its whole header, each option in it', async (script, words) => {
  const result = await execa('bash', [join(dockerDir, 'scripts', script), '--help'], { reject: false });
  const header = (await readFile(join(dockerDir, 'scripts', script), 'utf8')).split('\n').slice(1);
  expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({ exitCode: 0, stdout: header.slice(0, header.findIndex((line) => !line.startsWith('#'))).join('\n') });
  for (const word of words) expect(result.stdout).toContain(word);
});

const archives = async () => (await readdir(join(install, 'backups'))).filter((name) => /^changemaker-.*\.tar\.gz$/.test(name));

it('reads .env as docker compose does: quoted values unquoted, spaces kept, nothing run', async () => {
  await writeFile(
    join(install, '.env'),
    [
      '# a comment',
      'POSTGRES_USER=changemaker',
      'GREETING=two words',
      'POSTGRES_DB="campaign db"   # quoted, as compose allows',
      "export POSTGRES_USER='ops team'",
      'TAGLINE=$(touch sourced)',
      '',
    ].join('\n'),
  );
  const result = await backupSh();
  expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
  expect(result.stdout.split('\n')[0]).toBe('dumping database campaign db...');
  expect((await readFile(join(stub, 'calls'), 'utf8')).split('\n')).toEqual(['compose', 'exec', '-T', 'v2-postgres', 'pg_dump', '-U', 'ops team', '-Fc', 'campaign db', '']);
  expect(await readdir(install)).not.toContain('sourced');
  const [archive] = await archives();
  const dump = await execa('tar', ['-xzOf', join(install, 'backups', archive!), 'database.dump']);
  expect(dump.stdout).toBe('PGDMP dump of campaign db');
});

it('takes a value as compose does: the environment first, then .env, then the default', async () => {
  await writeFile(join(install, '.env'), 'POSTGRES_DB=\nPOSTGRES_USER=from-env-file\n');
  const dumpArguments = async () => (await readFile(join(stub, 'calls'), 'utf8')).split('\n').slice(5, 9);
  expect((await backupSh()).exitCode).toBe(0);
  expect(await dumpArguments()).toEqual(['-U', 'from-env-file', '-Fc', 'changemaker']);
  expect((await backupSh([], { POSTGRES_USER: 'from-shell' })).exitCode).toBe(0);
  expect(await dumpArguments()).toEqual(['-U', 'from-shell', '-Fc', 'changemaker']);
});

describe('the archive holds the database: nobody but its owner reads it', () => {
  beforeEach(() => writeFile(join(install, '.env'), 'POSTGRES_PASSWORD=secret\n'));
  const mode = async (path: string) => (await stat(join(install, path))).mode & 0o777;

  it('creates backups/ 700 and the archive 600, whatever the umask it was started with', async () => {
    const result = await execa('sh', ['-c', 'umask 022 && exec bash scripts/backup.sh'], {
      cwd: install,
      reject: false,
      env: { PATH: `${stub}:${process.env['PATH']}`, STUB_DIR: stub },
      extendEnv: false,
    });
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
    const [archive] = await archives();
    expect({ backups: await mode('backups'), archive: await mode(`backups/${archive}`) }).toEqual({ backups: 0o700, archive: 0o600 });
  });

  it('makes an existing backups/ that others can read 700, and says so', async () => {
    await mkdir(join(install, 'backups'));
    await chmod(join(install, 'backups'), 0o755);
    const result = await backupSh();
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe('backups/ was open to other users (mode 755); made it 700 so that only its owner reads the archives');
    expect(await mode('backups')).toBe(0o700);
    expect((await backupSh()).stdout).not.toContain('backups/ was open');
  });

  (process.getuid?.() === 0 ? it : it.skip)('refuses a backups/ open to others that it cannot make private, naming the chmod that does, its path one shell word', async () => {
    await writeFile(join(install, '.env'), 'POSTGRES_PASSWORD=secret\n');
    await mkdir(join(install, 'backups'));
    await chmod(join(install, 'backups'), 0o755);
    // The installation is nobody's, but backups/ root's (made by a backup run with sudo).
    await execa('chown', ['-R', 'nobody', install, stub]);
    await execa('chown', ['root', join(install, 'backups')]);
    await chmod(join(install, '..'), 0o755);
    const result = await execa('runuser', ['-u', 'nobody', '--', 'bash', join(install, 'scripts/backup.sh')], {
      cwd: install,
      reject: false,
      env: { PATH: `${stub}:${process.env['PATH']}`, STUB_DIR: stub },
      extendEnv: false,
    });
    const chmodCommand = `chmod 700 ${shellWord(join(install, 'backups'))}`;
    expect({ exitCode: result.exitCode, last: result.stderr.split('\n').at(-1) }).toEqual({
      exitCode: 1,
      last: `backup.sh: backups/ is open to other users (mode 755) and cannot be made private; run backup.sh as its owner, or ${chmodCommand}`,
    });
    expect(await readdir(join(install, 'backups'))).toEqual([]);
    await execa('bash', ['-c', chmodCommand]);
    expect(await mode('backups')).toBe(0o700);
  });

  it('is staged inside backups/ and renamed into place: no copy across filesystems, nothing left behind', async () => {
    expect((await backupSh()).exitCode).toBe(0);
    const staged = (await readFile(join(stub, 'dump-path'), 'utf8')).trim();
    expect(dirname(dirname(staged))).toBe(join(install, 'backups'));
    expect(await readdir(join(install, 'backups'))).toEqual(await archives());
  });
});

it('a file under data/ it cannot read fails the backup with one line saying to run it as root, and leaves no archive', async () => {
  await writeFile(join(install, '.env'), 'POSTGRES_PASSWORD=secret\n');
  // A container's own directory (grafana's, prometheus'), as backup.sh sees it from a user who is not root.
  await mkdir(join(install, 'data/grafana'));
  await writeFile(join(install, 'data/grafana/grafana.db'), 'dashboards\n');
  await chmod(join(install, 'data/grafana'), 0o700);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    await execa('chown', ['-R', 'nobody', install, stub]);
    await execa('chown', ['root', join(install, 'data/grafana')]);
    await chmod(join(install, '..'), 0o755);
  } else {
    await chmod(join(install, 'data/grafana'), 0o000);
  }
  const command = ['bash', join(install, 'scripts/backup.sh')];
  const result = await execa(asRoot ? 'runuser' : command[0]!, asRoot ? ['-u', 'nobody', '--', ...command] : command.slice(1), {
    cwd: install,
    reject: false,
    env: { PATH: `${stub}:${process.env['PATH']}`, STUB_DIR: stub },
    extendEnv: false,
  });
  expect({ exitCode: result.exitCode, last: String(result.stderr).split('\n').at(-1) }).toEqual({
    exitCode: 1,
    last: `backup.sh: archiving data/ failed (see above); when a file cannot be read, run backup.sh as root (data/ holds files of the containers' users); when it cannot write, free space in ${join(install, 'backups')}`,
  });
  expect(String(result.stderr)).toContain('data/grafana: Cannot open: Permission denied');
  expect(await readdir(join(install, 'backups'))).toEqual([]);
  await chmod(join(install, 'data/grafana'), 0o700);
});

describe('one backup at a time', () => {
  beforeEach(() => writeFile(join(install, '.env'), 'POSTGRES_PASSWORD=secret\n'));

  it('removes the staging directory a cut-off backup left (power loss, kill -9), and says so', async () => {
    await mkdir(join(install, 'backups/.partial-AbC123'), { recursive: true, mode: 0o700 });
    await chmod(join(install, 'backups'), 0o700);
    await writeFile(join(install, 'backups/.partial-AbC123/database.dump'), 'PGDMP half a dump');
    const result = await backupSh();
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(result.stdout.split('\n')[0]).toBe('removed backups/.partial-AbC123, left by a backup that was cut off');
    expect(await readdir(join(install, 'backups'))).toEqual(await archives());
  });

  it('a second backup started while one runs waits for it, and leaves the first one\'s staging alone', async () => {
    await writeFile(join(stub, 'slow'), '');
    const first = backupSh();
    for (let waited = 0; !(await readdir(stub)).includes('started'); waited += 20) {
      if (waited > 10000) throw new Error('the first backup.sh never reached pg_dump');
      await sleep(20);
    }
    const second = await backupSh();
    const firstResult = await first;
    expect([firstResult.exitCode, second.exitCode]).toEqual([0, 0]);
    expect(second.stdout.split('\n')[0]).toBe('waiting for the backup already running to finish...');
    expect(second.stdout).not.toContain('removed backups/.partial');
    expect(await archives()).toHaveLength(2);
    for (const archive of await archives()) {
      expect((await execa('tar', ['-xzOf', join(install, 'backups', archive), 'database.dump'])).stdout).toBe('PGDMP partialPGDMP dump of changemaker');
    }
  }, 20000);
});

describe('a signal stops it with one line, the signal\'s exit status, and no partial archive', () => {
  beforeEach(() => writeFile(join(install, '.env'), 'POSTGRES_PASSWORD=secret\n'));

  /**
   * backup.sh in its own process group, as a terminal or systemd runs it, once `started` exists;
   * wrapped, since awaiting the subprocess itself would wait for its end.
   */
  async function startBackup(env: Record<string, string> = {}): Promise<{ run: ResultPromise }> {
    const run = execa('bash', [join(install, 'scripts/backup.sh')], {
      cwd: install,
      reject: false,
      detached: true,
      env: { PATH: `${stub}:${process.env['PATH']}`, STUB_DIR: stub, ...env },
      extendEnv: false,
    });
    for (let waited = 0; !(await readdir(stub)).includes('started'); waited += 20) {
      if (waited > 10000) throw new Error('backup.sh never reached the slow step');
      await sleep(20);
    }
    return { run };
  }
  async function expectStopped(run: ResultPromise, signal: string, status: number) {
    const result = await run;
    expect({ exitCode: result.exitCode, last: String(result.stderr).split('\n').at(-1) }).toEqual({
      exitCode: status,
      last: `backup.sh: stopped by ${signal}; no backup was written and no partial archive is left; run it again`,
    });
    expect(await readdir(join(install, 'backups'))).toEqual([]);
  }

  it.each([
    ['SIGINT', 130],
    ['SIGHUP', 129],
    ['SIGTERM', 143],
  ] as const)('%s to its process group during pg_dump', async (signal, status) => {
    await writeFile(join(stub, 'slow'), '');
    const { run } = await startBackup();
    process.kill(-run.pid!, signal);
    await expectStopped(run, signal, status);
  });

  it('SIGTERM to the script alone, once the running command ends', async () => {
    await writeFile(join(stub, 'slow'), '');
    const { run } = await startBackup();
    process.kill(run.pid!, 'SIGTERM');
    await expectStopped(run, 'SIGTERM', 143);
  });

  it('SIGTERM once the archive is complete but not yet renamed into place', async () => {
    // A tar that finishes the archive, then waits: the archive exists only under its staging name.
    const slowTar = join(stub, 'slow-tar');
    await mkdir(slowTar);
    const realTar = (await execa('bash', ['-c', 'command -v tar'])).stdout;
    await writeFile(join(slowTar, 'tar'), `#!/usr/bin/env bash\n"${realTar}" "$@" || exit\ntouch "$STUB_DIR/started"\nsleep 2\n`);
    await chmod(join(slowTar, 'tar'), 0o755);
    const { run } = await startBackup({ PATH: `${slowTar}:${stub}:${process.env['PATH']}` });
    const staged = (await readdir(join(install, 'backups'), { recursive: true })).filter((name) => name.endsWith('.tar.gz'));
    expect(staged).toEqual([expect.stringMatching(/^\.partial-[^/]+\/backup\.tar\.gz$/)]);
    process.kill(-run.pid!, 'SIGTERM');
    await expectStopped(run, 'SIGTERM', 143);
  });

  it('SIGTERM after the archive is in place says so, and leaves it whole', async () => {
    // du runs right after the rename, before the old backups are removed.
    const slowDu = join(stub, 'slow-du');
    await mkdir(slowDu);
    await writeFile(join(slowDu, 'du'), '#!/usr/bin/env bash\ntouch "$STUB_DIR/started"\nsleep 2\n');
    await chmod(join(slowDu, 'du'), 0o755);
    const { run } = await startBackup({ PATH: `${slowDu}:${stub}:${process.env['PATH']}` });
    process.kill(-run.pid!, 'SIGTERM');
    const result = await run;
    const [archive] = await archives();
    expect({ exitCode: result.exitCode, last: String(result.stderr).split('\n').at(-1) }).toEqual({
      exitCode: 143,
      last: `backup.sh: stopped by SIGTERM after writing backups/${archive}, before removing the backups beyond --keep 7; run it again to remove them`,
    });
    expect(await readdir(join(install, 'backups'))).toEqual([archive]);
    expect((await execa('tar', ['-xzOf', join(install, 'backups', archive!), 'database.dump'])).stdout).toBe('PGDMP dump of changemaker');
  });
});
