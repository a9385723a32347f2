import { copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

const dockerDir = join(__dirname, '..');
const generatedSecrets = ['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'JWT_ACCESS_SECRET', 'JWT_REFRESH_SECRET', 'ENCRYPTION_KEY', 'GRAFANA_ADMIN_PASSWORD'];

let install: string;
beforeEach(async () => {
  install = await mkdtemp(join(tmpdir(), 'cm-config-'));
  await copyFile(join(dockerDir, 'config.sh'), join(install, 'config.sh'));
  await copyFile(join(dockerDir, '.env.example'), join(install, '.env.example'));
});
afterEach(async () => {
  await rm(install, { recursive: true, force: true });
});

/** config.sh as an operator runs it, in the install directory; its output as text. */
function configSh(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}) {
  return execa('bash', ['config.sh', ...args], { cwd: install, reject: false, input: '', ...options });
}

async function readEnv(): Promise<Map<string, string>> {
  const text = await readFile(join(install, '.env'), 'utf8');
  return new Map(text.split('\n').filter((line) => /^[A-Z0-9_]+=/.test(line)).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

it('non-interactive with flags: writes .env (mode 600) with every template key and strong, distinct, unprinted secrets', async () => {
  const result = await configSh(['--non-interactive', '--domain', 'campaign.example.org', '--admin-email', 'ops@example.org']);
  expect(result.exitCode).toBe(0);
  const env = await readEnv();
  const template = await readFile(join(install, '.env.example'), 'utf8');
  const templateKeys = template.split('\n').filter((line) => /^[A-Z0-9_]+=/.test(line)).map((line) => line.split('=')[0]);
  expect([...env.keys()]).toEqual(templateKeys);
  expect(env.get('DOMAIN')).toBe('campaign.example.org');
  expect(env.get('ADMIN_EMAIL')).toBe('ops@example.org');
  const secrets = generatedSecrets.map((name) => env.get(name) ?? '');
  for (const secret of secrets) expect(secret).toMatch(/^[0-9a-f]{64}$/);
  expect(new Set(secrets).size).toBe(secrets.length);
  for (const secret of secrets) expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
  expect((await stat(join(install, '.env'))).mode & 0o777).toBe(0o600);
});

it('non-interactive from the environment, and a second run generates different secrets', async () => {
  const env = { DOMAIN: 'env.example.org', ADMIN_EMAIL: 'env@example.org' };
  expect((await configSh(['-y'], { env })).exitCode).toBe(0);
  const first = await readEnv();
  expect(first.get('DOMAIN')).toBe('env.example.org');
  expect((await configSh(['-y', '--force'], { env })).exitCode).toBe(0);
  expect((await readEnv()).get('POSTGRES_PASSWORD')).not.toBe(first.get('POSTGRES_PASSWORD'));
});

it('interactive: takes the answers, and Enter keeps the default', async () => {
  const result = await configSh(['--interactive'], { input: 'asked.example.org\n\nregistry.example.org/team\n' });
  expect(result.exitCode).toBe(0);
  const env = await readEnv();
  expect(env.get('DOMAIN')).toBe('asked.example.org');
  expect(env.get('ADMIN_EMAIL')).toBe('admin@example.com');
  expect(env.get('GITEA_REGISTRY')).toBe('registry.example.org/team');
});

it('never overwrites an existing .env without --force; with --force it keeps a backup', async () => {
  await writeFile(join(install, '.env'), 'KEEP=me\n');
  const refused = await configSh(['-y']);
  expect(refused.exitCode).not.toBe(0);
  expect(refused.stderr).toMatch(/\.env already exists; pass --force/);
  expect(await readFile(join(install, '.env'), 'utf8')).toBe('KEEP=me\n');

  expect((await configSh(['-y', '--force'])).exitCode).toBe(0);
  expect((await readEnv()).has('POSTGRES_PASSWORD')).toBe(true);
  const backups = (await readdir(install)).filter((name) => name.startsWith('.env.backup-'));
  expect(backups).toHaveLength(1);
  expect(await readFile(join(install, backups[0]), 'utf8')).toBe('KEEP=me\n');
});

it('--dry-run prints the .env it would write with secrets masked, and writes nothing, even over an existing .env', async () => {
  await writeFile(join(install, '.env'), 'KEEP=me\n');
  const result = await configSh(['-y', '--dry-run', '--domain', 'dry.example.org']);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toContain('DOMAIN=dry.example.org');
  for (const name of generatedSecrets) expect(result.stdout).toContain(`${name}=<generated>`);
  expect(result.stdout).toContain('replacing the existing file');
  expect(await readFile(join(install, '.env'), 'utf8')).toBe('KEEP=me\n');
  expect((await readdir(install)).sort()).toEqual(['.env', '.env.example', 'config.sh']);
});

it.each([
  [['--domain', 'not a domain'], /domain 'not a domain' is not a host name/],
  [['--admin-email', 'nobody'], /admin email 'nobody' is not an email address/],
  [['--image-tag', 'bad tag!'], /image tag 'bad tag!' is not a valid tag/],
  [['--domain'], /--domain needs a value/],
  [['--bogus'], /unknown option --bogus/],
])('refuses %p in one line and writes nothing', async (args, message) => {
  const result = await configSh(['-y', ...args]);
  expect(result.exitCode).not.toBe(0);
  expect(result.stderr).toMatch(message);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect((await readdir(install)).sort()).toEqual(['.env.example', 'config.sh']);
});

it.each([
  ['SIGINT', 130],
  ['SIGHUP', 129],
  ['SIGTERM', 143],
] as const)('%s while it asks stops it with one line and the signal\'s status, writing nothing', async (signal, status) => {
  // In its own process group, as a terminal runs it: Ctrl-C and a hang-up reach the whole group.
  const run = execa('bash', ['config.sh', '--interactive'], { cwd: install, reject: false, detached: true, timeout: 10000 });
  await new Promise<void>((resolve) => run.stdout!.once('data', () => resolve()));
  process.kill(-run.pid!, signal);
  const result = await run;
  expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
    exitCode: status,
    stderr: `config.sh: stopped by ${signal}; ${join(install, '.env')} was not changed; run config.sh again`,
  });
  expect((await readdir(install)).sort()).toEqual(['.env.example', 'config.sh']);
});
