import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

const dockerDir = join(__dirname, '..');

/**
 * A `docker` on PATH that plays `compose exec -T v2-postgres pg_dump ...`: it logs its arguments,
 * one per line, to $STUB_DIR/calls and writes a small dump naming the database.
 */
const dockerStandIn = `#!/usr/bin/env bash
set -euo pipefail
[[ "$*" == "compose exec -T v2-postgres pg_dump "* ]] || { echo "docker stand-in: $* is not played" >&2; exit 97; }
printf '%s\\n' "$@" >"$STUB_DIR/calls"
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
