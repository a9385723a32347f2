import { chmod, chown, copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

const dockerDir = join(__dirname, '..');

type TemplateKey = { name: string; value: string; kind: 'generated' | 'secret' | 'plain' };

/** The KEY= lines of an env template, each with what the line directly above says of it. */
function templateKeys(text: string): TemplateKey[] {
  const lines = text.split('\n');
  return lines.flatMap((line, index) => {
    const key = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!key) return [];
    const above = lines[index - 1] ?? '';
    const kind = /^# secret, generated([^A-Za-z0-9]|$)/.test(above) ? 'generated' : /^# secret(,|$)/.test(above) ? 'secret' : 'plain';
    return [{ name: key[1]!, value: key[2]!, kind }];
  });
}
const shippedTemplate = async () => templateKeys(await readFile(join(dockerDir, '.env.example'), 'utf8'));
const generatedSecrets = async () => (await shippedTemplate()).filter((key) => key.kind === 'generated').map((key) => key.name);

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
  const generated = await generatedSecrets();
  expect(generated.length).toBeGreaterThan(0);
  const secrets = generated.map((name) => env.get(name) ?? '');
  for (const secret of secrets) expect(secret).toMatch(/^[0-9a-f]{64}$/);
  expect(new Set(secrets).size).toBe(secrets.length);
  for (const secret of secrets) expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
  expect((await stat(join(install, '.env'))).mode & 0o777).toBe(0o600);
});

it('non-interactive from the environment, and a run in another install generates different secrets', async () => {
  const env = { DOMAIN: 'env.example.org', ADMIN_EMAIL: 'env@example.org' };
  expect((await configSh(['-y'], { env })).exitCode).toBe(0);
  const first = await readEnv();
  expect(first.get('DOMAIN')).toBe('env.example.org');
  await rm(join(install, '.env'));
  expect((await configSh(['-y'], { env })).exitCode).toBe(0);
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
  for (const name of await generatedSecrets()) expect(result.stdout).toContain(`${name}=<generated>`);
  expect(result.stdout).toContain('replacing the existing file');
  expect(await readFile(join(install, '.env'), 'utf8')).toBe('KEEP=me\n');
  expect((await readdir(install)).sort()).toEqual(['.env', '.env.example', 'config.sh']);
});

it.each([
  [['--domain', 'not a domain'], /domain 'not a domain' is not a host name/],
  [['--admin-email', 'nobody'], /admin email 'nobody' is not an email address/],
  // Unquoted in .env, compose would expand $b to nothing and read ` #` as a comment.
  [['--admin-email', 'ops$team@example.org'], /admin email 'ops\$team@example\.org' is not an email address \.env can hold as written/],
  [['--admin-email', 'ops #1@example.org'], /admin email 'ops #1@example\.org' is not an email address \.env can hold as written/],
  [['--admin-email', '"ops"@example.org'], /admin email '"ops"@example\.org' is not an email address \.env can hold as written/],
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

it('.env.example marks every key whose name says it is a secret, and generates only what it can', async () => {
  const keys = await shippedTemplate();
  const unmarked = keys.filter((key) => /(^|_)(PASSWORD|PASS|SECRET|TOKEN|KEY)(_|$)/.test(key.name) && key.kind === 'plain');
  expect(unmarked.map((key) => key.name)).toEqual([]);
  // A marked secret ships empty: config.sh generates it or the operator fills it, never a default.
  expect(keys.filter((key) => key.kind !== 'plain' && key.value !== '').map((key) => key.name)).toEqual([]);
});

describe('a release that adds keys: --add-missing takes the secrets from .env.example and prints none', () => {
  const newKeys = [
    '# secret, generated',
    'SMTP_PASSWORD=',
    '# secret, from your mail provider',
    'SMTP_RELAY_PASSWORD=hunter2-default',
    'WEBHOOK_TOKEN=tok-unmarked-123',
    'MEDIA_MAX_UPLOAD_MB=100',
  ];
  beforeEach(async () => {
    expect((await configSh(['-y'])).exitCode).toBe(0);
    await writeFile(join(install, '.env.example'), `${await readFile(join(dockerDir, '.env.example'), 'utf8')}\n# new in this release\n${newKeys.join('\n')}\n`);
  });

  it('generates the key marked so, keeps the others as shipped, and lists names only for secrets', async () => {
    const before = await readFile(join(install, '.env'), 'utf8');
    const result = await configSh(['--add-missing']);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(result.stdout.split('\n')).toEqual([
      'added SMTP_PASSWORD to .env (generated)',
      'added SMTP_RELAY_PASSWORD to .env (a secret: its value is not shown)',
      'added WEBHOOK_TOKEN to .env (a secret: its value is not shown)',
      'added MEDIA_MAX_UPLOAD_MB=100 to .env',
    ]);
    const env = await readEnv();
    expect(env.get('SMTP_PASSWORD')).toMatch(/^[0-9a-f]{64}$/);
    expect(env.get('SMTP_RELAY_PASSWORD')).toBe('hunter2-default');
    expect(env.get('WEBHOOK_TOKEN')).toBe('tok-unmarked-123');
    expect((await readFile(join(install, '.env'), 'utf8')).startsWith(before)).toBe(true);
    for (const secret of [env.get('SMTP_PASSWORD')!, 'hunter2-default', 'tok-unmarked-123']) expect(result.stdout).not.toContain(secret);
  });

  it('--dry-run shows the same keys, no secret value among them', async () => {
    const result = await configSh(['--add-missing', '--dry-run']);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(result.stdout.split('\n')).toEqual([
      'would add to .env: SMTP_PASSWORD=<generated>',
      'would add to .env: SMTP_RELAY_PASSWORD=<secret, not shown>',
      'would add to .env: WEBHOOK_TOKEN=<secret, not shown>',
      'would add to .env: MEDIA_MAX_UPLOAD_MB=100',
    ]);
  });
});

it('a marker above no key is refused in one line, and nothing is written', async () => {
  const template = await readFile(join(install, '.env.example'), 'utf8');
  await writeFile(join(install, '.env.example'), template.replace('# secret, generated\nREDIS_PASSWORD=', '# secret, generated\n\nREDIS_PASSWORD='));
  const line = template.split('\n').indexOf('REDIS_PASSWORD=');
  const result = await configSh(['-y']);
  expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
    exitCode: 1,
    stderr: `config.sh: line ${line} of ${join(install, '.env.example')} marks no key: a '# secret' line must be directly above the KEY= line it marks; move it there, or report the release as faulty`,
  });
  expect((await readdir(install)).sort()).toEqual(['.env.example', 'config.sh']);
});

describe('--force replaces .env but keeps the secrets it set: the database and the encrypted data depend on them', () => {
  beforeEach(async () => {
    expect((await configSh(['-y', '--domain', 'old.example.org'])).exitCode).toBe(0);
    // An operator-filled secret, quoted as compose allows, and an older .env's mode.
    await writeFile(join(install, '.env'), `${await readFile(join(install, '.env'), 'utf8')}PANGOLIN_NEWT_SECRET='s3cr3t #not-a-comment'\n`);
    await chmod(join(install, '.env'), 0o644);
  });

  it('keeps every secret as written, takes the new answers, names what it kept and prints no value', async () => {
    const before = await readEnv();
    const result = await configSh(['-y', '--force', '--domain', 'new.example.org']);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
    const after = await readEnv();
    expect(after.get('DOMAIN')).toBe('new.example.org');
    for (const name of await generatedSecrets()) expect({ name, value: after.get(name) }).toEqual({ name, value: before.get(name) });
    expect(after.get('PANGOLIN_NEWT_SECRET')).toBe("'s3cr3t #not-a-comment'");
    expect(result.stdout).toContain(`  kept from the previous file: ${[...(await generatedSecrets()), 'PANGOLIN_NEWT_SECRET'].join(' ')}`);
    expect(result.stdout).toContain('  generated: none');
    for (const name of [...(await generatedSecrets()), 'PANGOLIN_NEWT_SECRET']) expect(result.stdout).not.toContain(after.get(name)!);
  });

  it('generates a secret the old file left empty, and a key it lacked', async () => {
    const text = await readFile(join(install, '.env'), 'utf8');
    await writeFile(join(install, '.env'), text.replace(/^JWT_REFRESH_SECRET=.*$/m, 'JWT_REFRESH_SECRET=""').replace(/^ENCRYPTION_KEY=.*\n/m, ''));
    const result = await configSh(['-y', '--force']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('  generated: JWT_REFRESH_SECRET ENCRYPTION_KEY');
    const after = await readEnv();
    expect(after.get('JWT_REFRESH_SECRET')).toMatch(/^[0-9a-f]{64}$/);
    expect(after.get('ENCRYPTION_KEY')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps the replaced file as a backup of its own, mode 600, whatever backups that second already has', async () => {
    const original = await readFile(join(install, '.env'), 'utf8');
    // config.sh names a backup by the second it runs in: that second is fixed here (a `date` that
    // answers it), so a loaded machine running config.sh seconds later cannot move it off the names taken.
    const clock = await mkdtemp(join(tmpdir(), 'cm-clock-'));
    await writeFile(join(clock, 'date'), '#!/bin/sh\necho 20260101120000\n', { mode: 0o755 });
    const taken = ['.env.backup-20260101120000', '.env.backup-20260101120000.2'];
    for (const name of taken) await writeFile(join(install, name), `an earlier backup: ${name}\n`, { mode: 0o600 });
    const result = await configSh(['-y', '--force'], { env: { PATH: `${clock}:${process.env['PATH']}` } });
    await rm(clock, { recursive: true, force: true });
    expect(result.exitCode).toBe(0);
    for (const name of taken) expect(await readFile(join(install, name), 'utf8')).toBe(`an earlier backup: ${name}\n`);
    const made = (await readdir(install)).filter((name) => name.startsWith('.env.backup-') && !taken.includes(name));
    expect(made).toEqual(['.env.backup-20260101120000.3']);
    expect(await readFile(join(install, made[0]!), 'utf8')).toBe(original);
    for (const name of ['.env', made[0]!]) expect({ name, mode: (await stat(join(install, name))).mode & 0o777 }).toEqual({ name, mode: 0o600 });
    expect(result.stdout).toContain(`made ${made[0]} private (mode 600; it was 644): it holds secrets`);
  });

  it('keeps the owner of the .env it replaces when root runs it', async () => {
    if (process.getuid?.() !== 0) return;
    await chown(join(install, '.env'), 65534, 65534);
    expect((await configSh(['-y', '--force'])).exitCode).toBe(0);
    const { uid, gid } = await stat(join(install, '.env'));
    expect({ uid, gid }).toEqual({ uid: 65534, gid: 65534 });
  });
});

describe('--add-missing on an existing .env', () => {
  beforeEach(async () => {
    expect((await configSh(['-y'])).exitCode).toBe(0);
  });

  it('makes a .env others can read private (600), and says so', async () => {
    const text = await readFile(join(install, '.env'), 'utf8');
    await writeFile(join(install, '.env'), text.replace(/^REDIS_PASSWORD=.*\n/m, ''));
    await chmod(join(install, '.env'), 0o644);
    const result = await configSh(['--add-missing']);
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(result.stdout.split('\n')).toEqual(['made .env private (mode 600; it was 644): it holds secrets', 'added REDIS_PASSWORD to .env (generated)']);
    expect((await stat(join(install, '.env'))).mode & 0o777).toBe(0o600);
  });

  it('counts a key set as compose reads it (export, spaces): a second assignment would override it', async () => {
    const text = await readFile(join(install, '.env'), 'utf8');
    const edited = text.replace(/^POSTGRES_PASSWORD=/m, 'export POSTGRES_PASSWORD=').replace(/^REDIS_PASSWORD=/m, 'REDIS_PASSWORD = ');
    await writeFile(join(install, '.env'), edited);
    const result = await configSh(['--add-missing']);
    expect({ exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(await readFile(join(install, '.env'), 'utf8')).toBe(edited);
  });
});

it('a .env that links elsewhere stays a link: --add-missing and --force rewrite the file it names', async () => {
  await mkdir(join(install, 'etc'));
  expect((await configSh(['-y', '--env-file', 'etc/changemaker.env'])).exitCode).toBe(0);
  await symlink('etc/changemaker.env', join(install, '.env'));
  const text = await readFile(join(install, 'etc/changemaker.env'), 'utf8');
  await writeFile(join(install, 'etc/changemaker.env'), text.replace(/^REDIS_PASSWORD=.*\n/m, ''));

  expect((await configSh(['--add-missing'])).stdout).toBe('added REDIS_PASSWORD to .env (generated)');
  expect((await lstat(join(install, '.env'))).isSymbolicLink()).toBe(true);
  expect((await readEnv()).get('REDIS_PASSWORD')).toMatch(/^[0-9a-f]{64}$/);

  expect((await configSh(['-y', '--force', '--domain', 'linked.example.org'])).exitCode).toBe(0);
  expect((await lstat(join(install, '.env'))).isSymbolicLink()).toBe(true);
  expect((await readEnv()).get('DOMAIN')).toBe('linked.example.org');
});

describe('no random bytes: it stops in one line and writes no empty or short secret', () => {
  /** An `od` on PATH that reads nothing, as in a chroot without /dev/urandom. */
  async function withoutRandomBytes(): Promise<NodeJS.ProcessEnv> {
    const bin = join(install, 'no-random');
    await mkdir(bin);
    await writeFile(join(bin, 'od'), '#!/bin/sh\necho "od: /dev/urandom: No such file or directory" >&2\nexit 1\n');
    await chmod(join(bin, 'od'), 0o755);
    return { PATH: `${bin}:${process.env['PATH']}` };
  }
  const message = 'config.sh: could not read 32 random bytes from /dev/urandom; .env was not changed; check that /dev/urandom is readable';

  it('creating .env', async () => {
    const result = await configSh(['-y'], { env: await withoutRandomBytes() });
    expect({ exitCode: result.exitCode, last: result.stderr.split('\n').at(-1) }).toEqual({ exitCode: 1, last: message });
    expect((await readdir(install)).sort()).toEqual(['.env.example', 'config.sh', 'no-random']);
  });

  it('adding a key', async () => {
    expect((await configSh(['-y'])).exitCode).toBe(0);
    const text = (await readFile(join(install, '.env'), 'utf8')).replace(/^REDIS_PASSWORD=.*\n/m, '');
    await writeFile(join(install, '.env'), text);
    const result = await configSh(['--add-missing'], { env: await withoutRandomBytes() });
    expect({ exitCode: result.exitCode, last: result.stderr.split('\n').at(-1) }).toEqual({ exitCode: 1, last: message });
    expect(await readFile(join(install, '.env'), 'utf8')).toBe(text);
  });
});
