import { existsSync, readdirSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/**
 * backup.sh and restore.sh against a real PostgreSQL (Debian's, the major version of its client tools): the
 * cluster holds the databases an installation has (POSTGRES_DB, and nocodb and listmonk, which
 * init-db creates), and each archive is restored with pg_restore into fresh databases and compared.
 * The only stand-in is `docker`: `compose exec -T v2-postgres` runs its command on this machine
 * against the test cluster's socket, as the container runs it against its own; `compose stop` and
 * `compose start` (restore.sh's) are recorded in $STUB_CALLS, and the cluster keeps running.
 */
const dockerDir = join(__dirname, '..');

const dockerStandIn = `#!/usr/bin/env bash
set -euo pipefail
case "$*" in
  "compose exec -T v2-postgres pg_restore --exit-on-error "*)
    # With $STUB_SLOW set, a restore takes a while: it says so in $STUB_SLOW, then waits.
    if [ -n "\${STUB_SLOW:-}" ]; then touch "$STUB_SLOW"; sleep 5; fi
    shift 4; PGHOST="$PG_SOCKET" exec "$@" ;;
  "compose exec -T v2-postgres "*) shift 4; PGHOST="$PG_SOCKET" exec "$@" ;;
  "compose stop" | "compose start" | "compose start v2-postgres") echo "$*" >>"$STUB_CALLS" ;;
  *) echo "docker stand-in: $* is not played" >&2; exit 97 ;;
esac
`;

let scratch: string;
let socket: string;
let cluster: string;
const debianServers = '/usr/lib/postgresql';
/** initdb and pg_ctl from Debian's newest server (/usr/lib/postgresql/<version>/bin, not on PATH), else from PATH. */
function serverCommand(name: string): string {
  const versions = existsSync(debianServers) ? readdirSync(debianServers).filter((version) => existsSync(join(debianServers, version, 'bin', name))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest ? join(debianServers, newest, 'bin', name) : name;
}
/** As root, the server runs as the postgres user (postgres refuses root); otherwise as ourselves. */
const asServerUser = (name: string, args: string[]) =>
  process.getuid?.() === 0 ? execa('runuser', ['-u', 'postgres', '--', serverCommand(name), ...args]) : execa(serverCommand(name), args);
const psql = (database: string, sql: string) =>
  execa('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-U', 'changemaker', '-d', database, '-Atc', sql], { env: { PGHOST: socket } });

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cm-backup-restore-'));
  await chmod(scratch, 0o755);
  socket = join(scratch, 'socket');
  cluster = join(scratch, 'cluster');
  await mkdir(socket);
  await mkdir(cluster, { mode: 0o700 });
  if (process.getuid?.() === 0) await execa('chown', ['postgres', socket, cluster]);
  await asServerUser('initdb', ['-D', cluster, '-U', 'changemaker', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  await asServerUser('pg_ctl', ['-D', cluster, '-o', `-k ${socket} -c listen_addresses= -c fsync=off`, '-l', join(socket, 'log'), '-w', 'start']);
  for (const database of ['changemaker', 'nocodb', 'listmonk']) await psql('postgres', `CREATE DATABASE ${database}`);
  await psql('changemaker', "CREATE TABLE campaign (id int PRIMARY KEY, title text); INSERT INTO campaign VALUES (1, 'Clean water'), (2, 'O''Brien & co: 100% $ \\ /')");
  await psql('nocodb', "CREATE TABLE nc_rows (id int, cell text); INSERT INTO nc_rows VALUES (7, 'a nocodb cell')");
  await psql('listmonk', "CREATE TABLE subscribers (email text); INSERT INTO subscribers VALUES ('a@example.org'), ('b@example.org')");
}, 60000);

afterAll(async () => {
  if (cluster) await asServerUser('pg_ctl', ['-D', cluster, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

let install: string;
beforeEach(async () => {
  install = await mkdtemp(join(scratch, 'install-'));
  await mkdir(join(install, 'scripts'));
  await mkdir(join(install, 'data/uploads'), { recursive: true });
  await mkdir(join(install, 'bin'));
  await copyFile(join(dockerDir, 'scripts/backup.sh'), join(install, 'scripts/backup.sh'));
  await copyFile(join(dockerDir, 'scripts/env-file.sh'), join(install, 'scripts/env-file.sh'));
  await copyFile(join(dockerDir, 'scripts/restore.sh'), join(install, 'scripts/restore.sh'));
  await writeFile(join(install, 'bin/docker'), dockerStandIn, { mode: 0o755 });
  await writeFile(join(install, '.env'), 'POSTGRES_USER=changemaker\nPOSTGRES_DB=changemaker\n');
  await writeFile(join(install, 'data/uploads/poster.txt'), 'a poster\n');
});

// The cluster as beforeAll made it for the next test: what a test restored, renamed or left is dropped.
afterEach(async () => {
  const databases = (await psql('postgres', 'SELECT datname FROM pg_database')).stdout.split('\n');
  for (const database of databases.filter((name) => /^restored_|_(before_restore|restoring)_/.test(name))) {
    await psql('postgres', `DROP DATABASE "${database}"`);
  }
});

function run(script: string, args: string[] = [], options: { env?: Record<string, string>; detached?: boolean } = {}) {
  return execa('bash', [`scripts/${script}`, ...args], {
    cwd: install,
    reject: false,
    detached: options.detached ?? false,
    env: { PATH: `${join(install, 'bin')}:${process.env['PATH']}`, PG_SOCKET: socket, STUB_CALLS: join(install, 'calls'), ...options.env },
    extendEnv: false,
  });
}
const backupSh = () => run('backup.sh');

/** The one archive in backups/, unpacked into a new directory. */
async function unpackedArchive(): Promise<string> {
  const archives = (await readdir(join(install, 'backups'))).filter((name) => name.endsWith('.tar.gz'));
  expect(archives).toHaveLength(1);
  const into = await mkdtemp(join(scratch, 'unpacked-'));
  await execa('tar', ['-xzf', join(install, 'backups', archives[0]!), '-C', into]);
  return into;
}

/** A dump restored with pg_restore into a new, empty database; its rows of `table`, ordered. */
async function restoredRows(dump: string, table: string): Promise<string> {
  const database = `restored_${Math.random().toString(36).slice(2, 10)}`;
  await psql('postgres', `CREATE DATABASE ${database}`);
  await execa('pg_restore', ['--exit-on-error', '--no-owner', '-U', 'changemaker', '-d', database, dump], { env: { PGHOST: socket } });
  return (await psql(database, `SELECT * FROM ${table} ORDER BY 1`)).stdout;
}

it('backs up every database of the cluster, and each restores into an empty database with the same rows', async () => {
  const result = await backupSh();
  expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
  expect(result.stdout.split('\n').filter((line) => line.startsWith('dumping'))).toEqual([
    'dumping database changemaker...',
    'dumping database listmonk...',
    'dumping database nocodb...',
    'dumping database postgres...',
  ]);
  const unpacked = await unpackedArchive();
  expect((await readdir(join(unpacked, 'databases'))).sort()).toEqual(['listmonk.dump', 'nocodb.dump', 'postgres.dump']);
  expect(await restoredRows(join(unpacked, 'database.dump'), 'campaign')).toBe("1|Clean water\n2|O'Brien & co: 100% $ \\ /");
  expect(await restoredRows(join(unpacked, 'databases/nocodb.dump'), 'nc_rows')).toBe('7|a nocodb cell');
  expect(await restoredRows(join(unpacked, 'databases/listmonk.dump'), 'subscribers')).toBe('a@example.org\nb@example.org');
  expect((await execa('cat', [join(unpacked, 'data/uploads/poster.txt')])).stdout).toBe('a poster');
});

it('a file under data/ that changes while it is archived is a warning, not a failed backup', async () => {
  // A live log, large enough that tar is still reading it while a writer appends to it.
  await execa('bash', ['-c', 'head -c 24000000 /dev/urandom >data/uploads/live.log'], { cwd: install });
  const writer = execa('bash', ['-c', 'while :; do echo more >>data/uploads/live.log; done'], { cwd: install, reject: false });
  try {
    const result = await backupSh();
    expect({ exitCode: result.exitCode, last: result.stderr.split('\n').at(-1) }).toEqual({
      exitCode: 0,
      last: 'backup.sh: warning: some files under data/ changed while they were archived (named above); the archive holds them as they were read',
    });
    expect(result.stderr).toContain('live.log: file changed as we read it');
  } finally {
    writer.kill();
    await writer;
  }
  const unpacked = await unpackedArchive();
  expect(await restoredRows(join(unpacked, 'database.dump'), 'campaign')).toContain('Clean water');
}, 30000);

describe('restore.sh', () => {
  /** The databases' rows an installation is judged by, and its upload. */
  async function state() {
    return {
      campaign: (await psql('changemaker', 'SELECT * FROM campaign ORDER BY 1')).stdout,
      nocodb: (await psql('nocodb', 'SELECT * FROM nc_rows ORDER BY 1')).stdout,
      listmonk: (await psql('listmonk', 'SELECT * FROM subscribers ORDER BY 1')).stdout,
      poster: (await execa('cat', [join(install, 'data/uploads/poster.txt')])).stdout,
    };
  }
  const databases = async () => (await psql('postgres', 'SELECT datname FROM pg_database ORDER BY 1')).stdout.split('\n');
  const calls = async () => (await readFile(join(install, 'calls'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
  let archive: string;
  let backedUp: Awaited<ReturnType<typeof state>>;
  beforeEach(async () => {
    expect((await backupSh()).exitCode).toBe(0);
    archive = join('backups', (await readdir(join(install, 'backups')))[0]!);
    backedUp = await state();
    // Life goes on after the backup: rows change, an upload is replaced.
    await psql('changemaker', "INSERT INTO campaign VALUES (3, 'after the backup')");
    await psql('nocodb', 'DELETE FROM nc_rows');
    await writeFile(join(install, 'data/uploads/poster.txt'), 'a newer poster\n');
  });
  afterEach(async () => {
    // The rows beforeAll wrote, whether the restore put them back or was refused.
    await psql('changemaker', 'DELETE FROM campaign WHERE id = 3');
    await psql('nocodb', "DELETE FROM nc_rows; INSERT INTO nc_rows VALUES (7, 'a nocodb cell')");
  });

  it('puts back every database and data/ as they were backed up, keeping the previous ones', async () => {
    const result = await run('restore.sh', [archive, '--yes']);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(await state()).toEqual(backedUp);
    expect(await calls()).toEqual(['compose stop', 'compose start v2-postgres', 'compose start']);
    const kept = (await databases()).filter((name) => name.includes('_before_restore_'));
    expect(kept.map((name) => name.replace(/_before_restore_.*/, ''))).toEqual(['changemaker', 'listmonk', 'nocodb', 'postgres']);
    expect((await psql(kept[0]!, 'SELECT count(*) FROM campaign')).stdout).toBe('3');
    const before = (await readdir(join(install, 'data'))).filter((name) => name.startsWith('.before-restore-'));
    expect(before).toHaveLength(1);
    expect((await execa('cat', [join(install, 'data', before[0]!, 'uploads/poster.txt')])).stdout).toBe('a newer poster');
    expect((await readdir(install)).filter((name) => name.startsWith('.restore-'))).toEqual([]);
  });

  it.each([
    ['truncated', async (good: Buffer) => good.subarray(0, Math.floor(good.length / 2)), /is not a complete backup archive \(see above\); nothing was changed; pick another from backups\/$/],
    ['not made by backup.sh', async () => {
      const other = await mkdtemp(join(scratch, 'other-'));
      await writeFile(join(other, 'notes.txt'), 'not a backup\n');
      await execa('tar', ['-czf', join(other, 'a.tar.gz'), '-C', other, 'notes.txt']);
      return readFile(join(other, 'a.tar.gz'));
    }, /holds no database\.dump, so backup\.sh did not make it; nothing was changed$/],
    ['holding a corrupt dump', async (good: Buffer) => {
      const other = await mkdtemp(join(scratch, 'corrupt-'));
      await writeFile(join(other, 'a.tar.gz'), good);
      await execa('tar', ['-xzf', 'a.tar.gz'], { cwd: other });
      const dump = await readFile(join(other, 'databases/nocodb.dump'));
      await writeFile(join(other, 'databases/nocodb.dump'), dump.subarray(0, 40));
      await execa('tar', ['-czf', 'a.tar.gz', 'data', 'database.dump', 'databases'], { cwd: other });
      return readFile(join(other, 'a.tar.gz'));
    }, /the dump of database nocodb in .* cannot be read \(see above\); nothing was changed; pick another archive$/],
  ] as const)('refuses an archive %s before it stops or touches anything', async (_case, corrupt, message) => {
    const bad = join(install, 'backups/changemaker-bad.tar.gz');
    await writeFile(bad, await corrupt(await readFile(join(install, archive))));
    const before = { state: await state(), databases: await databases() };
    const result = await run('restore.sh', [bad, '--yes']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.split('\n').at(-1)).toMatch(message);
    expect({ state: await state(), databases: await databases() }).toEqual(before);
    expect(await calls()).toEqual([]);
    expect((await readdir(install)).filter((name) => name.startsWith('.restore-'))).toEqual([]);
  });

  it('Ctrl-C while it restores stops it with one line, drops the restored copies and changes nothing live', async () => {
    const before = { state: await state(), databases: await databases() };
    const slow = join(install, 'restoring');
    // In its own process group, as a terminal runs it: Ctrl-C reaches the whole group.
    const restore = run('restore.sh', [archive, '--yes'], { env: { STUB_SLOW: slow }, detached: true });
    for (let waited = 0; !(await readdir(install)).includes('restoring'); waited += 20) {
      if (waited > 10000) throw new Error('restore.sh never reached pg_restore');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    process.kill(-restore.pid!, 'SIGINT');
    const result = await restore;
    expect({ exitCode: result.exitCode, last: String(result.stderr).split('\n').at(-1) }).toEqual({
      exitCode: 130,
      last: 'restore.sh: stopped by SIGINT; nothing live was changed',
    });
    expect({ state: await state(), databases: await databases() }).toEqual(before);
    expect(await calls()).toEqual([]);
    expect((await readdir(install)).filter((name) => name.startsWith('.restore-'))).toEqual([]);
  }, 20000);

  it('refuses in one line, before anything, when v2-postgres does not answer', async () => {
    const before = await state();
    const result = await run('restore.sh', [archive, '--yes'], { env: { PG_SOCKET: join(scratch, 'no-server-here') } });
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
      exitCode: 1,
      stderr: 'restore.sh: v2-postgres does not answer, and the dumps are read and restored through it; start it (docker compose up -d v2-postgres) and run restore.sh again; nothing was changed',
    });
    expect(await state()).toEqual(before);
    expect(await calls()).toEqual([]);
  });

  it('refuses while backup.sh runs, changing nothing', async () => {
    const before = await state();
    const backup = execa('flock', ['backups', 'sleep', '3'], { cwd: install });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const result = await run('restore.sh', [archive, '--yes']);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
      exitCode: 1,
      stderr: 'restore.sh: backup.sh is running; run restore.sh again once it has finished; nothing was changed',
    });
    expect(await state()).toEqual(before);
    expect(await calls()).toEqual([]);
    backup.kill();
    await backup.catch(() => undefined);
  });

  it('removes the staging directory a restore cut off by kill -9 left', async () => {
    await mkdir(join(install, '.restore-AbC123/data'), { recursive: true });
    const result = await run('restore.sh', [archive]);
    expect(result.stdout).toBe(`removed ${join(install, '.restore-AbC123')}, left by a restore that was cut off`);
    expect((await readdir(install)).filter((name) => name.startsWith('.restore-'))).toEqual([]);
  });

  it('asks for --yes when it cannot ask, and changes nothing', async () => {
    const before = await state();
    const result = await run('restore.sh', [archive]);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
      exitCode: 1,
      stderr: 'restore.sh: restoring replaces the databases changemaker listmonk nocodb postgres and data/ with ' + join(install, archive) + "'s; pass --yes to do it",
    });
    expect(await state()).toEqual(before);
    expect(await databases()).not.toEqual(expect.arrayContaining([expect.stringMatching(/_restoring_/)]));
  });
});
