import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

const dockerDir = join(__dirname, '..');

/**
 * A `docker` on PATH that plays `compose exec -T v2-postgres pg_dump ...`: it logs its arguments,
 * one per line, to $STUB_DIR/calls, the file its output goes to in $STUB_DIR/dump-path, and writes
 * a small dump naming the database.
 */
const dockerStandIn = `#!/usr/bin/env bash
set -euo pipefail
[[ "$*" == "compose exec -T v2-postgres pg_dump "* ]] || { echo "docker stand-in: $* is not played" >&2; exit 97; }
printf '%s\\n' "$@" >"$STUB_DIR/calls"
readlink -f "/proc/$$/fd/1" >"$STUB_DIR/dump-path"
printf 'PGDMP dump of %s\\n' "\${*: -1}"
`;

let install: string;
let stub: string;
beforeEach(async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'cm-backup-'));
  install = join(scratch, 'changemaker-lite');
  stub = join(scratch, 'stub');
  await mkdir(join(install, 'scripts'), { recursive: true });
  await mkdir(join(install, 'data/uploads'), { recursive: true });
  await mkdir(stub);
  await copyFile(join(dockerDir, 'scripts/backup.sh'), join(install, 'scripts/backup.sh'));
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

  it('is staged inside backups/ and renamed into place: no copy across filesystems, nothing left behind', async () => {
    expect((await backupSh()).exitCode).toBe(0);
    const staged = (await readFile(join(stub, 'dump-path'), 'utf8')).trim();
    expect(dirname(dirname(staged))).toBe(join(install, 'backups'));
    expect(await readdir(join(install, 'backups'))).toEqual(await archives());
  });
});
