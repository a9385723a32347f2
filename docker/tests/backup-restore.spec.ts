import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/**
 * backup.sh against a real PostgreSQL (Debian's, the major version of its client tools): the
 * cluster holds the databases an installation has (POSTGRES_DB, and nocodb and listmonk, which
 * init-db creates), and each archive is restored with pg_restore into fresh databases and compared.
 * The only stand-in is `docker compose exec -T v2-postgres`, which runs its command on this machine
 * against the test cluster's socket, as the container runs it against its own.
 */
const dockerDir = join(__dirname, '..');

const dockerStandIn = `#!/usr/bin/env bash
set -euo pipefail
[[ "$*" == "compose exec -T v2-postgres "* ]] || { echo "docker stand-in: $* is not played" >&2; exit 97; }
shift 4
PGHOST="$PG_SOCKET" exec "$@"
`;

let scratch: string;
let socket: string;
let cluster: string;
/** As root, the server runs as the postgres user (postgres refuses root); otherwise as ourselves. */
const asServerUser = (command: string, args: string[]) =>
  process.getuid?.() === 0 ? execa('runuser', ['-u', 'postgres', '--', command, ...args]) : execa(command, args);
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
  await writeFile(join(install, 'bin/docker'), dockerStandIn, { mode: 0o755 });
  await writeFile(join(install, '.env'), 'POSTGRES_USER=changemaker\nPOSTGRES_DB=changemaker\n');
  await writeFile(join(install, 'data/uploads/poster.txt'), 'a poster\n');
});

function backupSh() {
  return execa('bash', ['scripts/backup.sh'], {
    cwd: install,
    reject: false,
    env: { PATH: `${join(install, 'bin')}:${process.env['PATH']}`, PG_SOCKET: socket },
    extendEnv: false,
  });
}

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
  for (const database of (await psql('postgres', "SELECT datname FROM pg_database WHERE datname LIKE 'restored_%'")).stdout.split('\n')) {
    await psql('postgres', `DROP DATABASE ${database}`);
  }
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
