import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

const envFileSh = join(__dirname, '../scripts/env-file.sh');

/** compose_value as backup.sh and upgrade.sh call it, in a directory holding `dotEnv` as .env (none when undefined). */
async function composeValue(key: string, fallback: string, dotEnv: string | undefined, env: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'cm-env-file-'));
  try {
    if (dotEnv !== undefined) await writeFile(join(dir, '.env'), dotEnv);
    const result = await execa('bash', ['--noprofile', '--norc', '-euo', 'pipefail', '-c', `source "${envFileSh}"; compose_value "$0" "$1"`, key, fallback], {
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '', ...env },
      extendEnv: false,
      reject: false,
    });
    return { value: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('env-file.sh compose_value: .env read as docker compose reads it', () => {
  it.each([
    ['a plain value', 'API_PORT=4000\n', '4000'],
    ['double quotes removed', 'API_PORT="4000"\n', '4000'],
    ['single quotes removed', "API_PORT='4000'\n", '4000'],
    ['a comment after an unquoted value', 'API_PORT=4000 # the api\n', '4000'],
    ['a # inside quotes kept', 'API_PORT="40#00" # the api\n', '40#00'],
    ['`export ` in front', 'export API_PORT=4000\n', '4000'],
    ['the last assignment', 'API_PORT=1\nAPI_PORT=2\n', '2'],
    ['spaces inside a value', 'API_PORT=two words\n', 'two words'],
    ['CRLF line ends', 'API_PORT=4000\r\n', '4000'],
    ['a similar key left alone', 'API_PORTS=9\n', 'fallback'],
    ['an empty value: the fallback', 'API_PORT=\n', 'fallback'],
  ])('%s', async (_case, dotEnv, expected) => {
    expect(await composeValue('API_PORT', 'fallback', dotEnv)).toEqual({ value: expected, stderr: '', exitCode: 0 });
  });

  it('takes the environment over .env, as compose does', async () => {
    expect((await composeValue('IMAGE_TAG', '', 'IMAGE_TAG=v1\n', { IMAGE_TAG: 'v2' })).value).toBe('v2');
  });

  it('runs nothing a value holds', async () => {
    const result = await composeValue('API_PORT', '', 'API_PORT=$(touch /nonexistent/x)`id`\n');
    expect(result).toEqual({ value: '$(touch /nonexistent/x)`id`', stderr: '', exitCode: 0 });
  });

  it('gives the fallback when there is no .env', async () => {
    expect(await composeValue('API_PORT', '4000', undefined)).toEqual({ value: '4000', stderr: '', exitCode: 0 });
  });
});
