import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

const script = join(__dirname, '..', 'scripts/init-db/01-create-databases.sh');

/**
 * A `psql` on PATH that logs each SQL statement and answers the existence query from $EXISTING
 * (database names, space-separated), or fails it when $QUERY_FAILS is set, as a postgres that
 * refuses the connection would.
 */
const psqlStandIn = `#!/usr/bin/env bash
sql="\${*: -1}"
printf '%s\\n' "$sql" >>"$PSQL_LOG"
if [[ "$sql" == SELECT* ]]; then
  [ -z "\${QUERY_FAILS:-}" ] || { echo 'psql: error: connection refused (stand-in)' >&2; exit 2; }
  name="\${sql##*datname = \\'}"; name="\${name%\\'}"
  [[ " $EXISTING " != *" $name "* ]] || echo 1
fi
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cm-init-db-'));
  await writeFile(join(dir, 'psql'), psqlStandIn);
  await chmod(join(dir, 'psql'), 0o755);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function run(env: Record<string, string>) {
  const log = join(dir, 'psql.log');
  await writeFile(log, '');
  const result = await execa('bash', [script], {
    reject: false,
    env: { PATH: `${dir}:${process.env['PATH']}`, PSQL_LOG: log, POSTGRES_USER: 'changemaker', POSTGRES_DB: 'changemaker', EXISTING: '', ...env },
  });
  const creates = (await readFile(log, 'utf8')).split('\n').filter((line) => line.startsWith('CREATE'));
  return { exitCode: result.exitCode, stderr: result.stderr, creates };
}

it('creates only the databases that do not exist yet', async () => {
  expect(await run({ EXISTING: 'nocodb' })).toEqual({ exitCode: 0, stderr: '', creates: ['CREATE DATABASE "listmonk" OWNER "changemaker"'] });
  expect(await run({ EXISTING: 'nocodb listmonk' })).toEqual({ exitCode: 0, stderr: '', creates: [] });
});

it('stops with one line, creating nothing, when postgres cannot say whether a database exists', async () => {
  const result = await run({ QUERY_FAILS: '1' });
  expect(result).toEqual({
    exitCode: 1,
    stderr:
      'psql: error: connection refused (stand-in)\n' +
      '01-create-databases.sh: could not ask postgres whether database nocodb exists (see above); fix it, empty data/postgres and start v2-postgres again',
    creates: [],
  });
});
