import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { execa } from 'execa';
import { signatureNamespace, signerPrincipal } from '@changemaker/release-contract';
import { ReleaseSigningError } from './bundle-errors';
import { allowedSignerLine, SigningKey, signingKeyFromEnv, signWithKey } from './release-signing';

const workspaceRoot = join(__dirname, '../../..');
let scratch: string;
let keyPath: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'release-signing-spec-'));
  keyPath = join(scratch, 'release-key');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'spec', '-f', keyPath]);
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** ssh-keygen's own verdict, as install.sh asks for it. */
async function verifies(signers: string, data: string, signature: Buffer, namespace = signatureNamespace): Promise<boolean> {
  const dir = await mkdtemp(join(scratch, 'verify-'));
  await writeFile(join(dir, 'allowed_signers'), signers);
  await writeFile(join(dir, 'sig'), signature);
  const result = await execa('ssh-keygen', ['-Y', 'verify', '-f', join(dir, 'allowed_signers'), '-I', signerPrincipal, '-n', namespace, '-s', join(dir, 'sig')], { input: data, reject: false });
  return result.exitCode === 0;
}

describe('release signing', () => {
  it('reads the key from RELEASE_SIGNING_KEY_FILE or RELEASE_SIGNING_KEY, and none means unsigned', async () => {
    const text = await readFile(keyPath, 'utf8');
    const fromFile = (await signingKeyFromEnv({ RELEASE_SIGNING_KEY_FILE: keyPath }))!;
    expect({ origin: fromFile.origin, key: fromFile.privateKeyText() }).toEqual({ origin: `RELEASE_SIGNING_KEY_FILE (${keyPath})`, key: text });
    const inline = (await signingKeyFromEnv({ RELEASE_SIGNING_KEY: text.trimEnd() }))!;
    expect({ origin: inline.origin, key: inline.privateKeyText() }).toEqual({ origin: 'RELEASE_SIGNING_KEY', key: text });
    expect(await signingKeyFromEnv({})).toBeUndefined();
    // A plan holding the key may be printed or logged: the key is not in either.
    expect(JSON.stringify({ plan: fromFile })).not.toContain(text.split('\n')[1]);
    expect(inspect({ plan: fromFile }, { depth: 5 })).not.toContain(text.split('\n')[1]);
    await expect(signingKeyFromEnv({ RELEASE_SIGNING_KEY_FILE: join(scratch, 'absent') })).rejects.toThrow(
      `RELEASE_SIGNING_KEY_FILE=${join(scratch, 'absent')} cannot be read; point it at the release signing key (an OpenSSH private key)`,
    );
  });

  it('signs so that ssh-keygen -Y verify accepts it for the allowed_signers line, and nothing else', async () => {
    const key = (await signingKeyFromEnv({ RELEASE_SIGNING_KEY_FILE: keyPath }))!;
    const line = await allowedSignerLine(key);
    expect(line).toBe(`${signerPrincipal} ${(await readFile(`${keyPath}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ')}`);
    const sums = 'aa  changemaker-lite-v1.0.0.tar.gz\n';
    const signature = await signWithKey(key, Buffer.from(sums));
    expect(await verifies(`${line}\n`, sums, signature)).toBe(true);
    expect(await verifies(`${line}\n`, sums.replace('aa', 'ab'), signature)).toBe(false);
    expect(await verifies(`${line}\n`, sums, signature, 'file')).toBe(false);
  });

  it('leaves no copy of the key behind, and a key that is no key fails with one line that does not show it', async () => {
    const before = (await readdir(tmpdir())).filter((name) => name.startsWith('release-signing-'));
    const bogus = new SigningKey('-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LXZhbHVlLTQ0MjE=\n-----END OPENSSH PRIVATE KEY-----\n', 'RELEASE_SIGNING_KEY');
    const failure = await signWithKey(bogus, Buffer.from('x')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ReleaseSigningError);
    expect((failure as Error).message).toMatch(/^signing with the key from RELEASE_SIGNING_KEY failed: .*; it must be an unencrypted OpenSSH private key \(ssh-keygen -t ed25519 -N ''\)$/);
    expect((failure as Error).message).not.toContain('c2VjcmV0LXZhbHVlLTQ0MjE');
    expect((await readdir(tmpdir())).filter((name) => name.startsWith('release-signing-'))).toEqual(before);
  });

  it("says an ssh-keygen too old to sign (OpenSSH before 8.1) is the problem, not the key", async () => {
    // OpenSSH 8.0's ssh-keygen, which has no -Y, as its getopt answers it (this machine's is newer).
    const bin = await mkdtemp(join(scratch, 'old-openssh-'));
    await writeFile(join(bin, 'ssh-keygen'), '#!/bin/sh\nfor arg; do [ "$arg" = -Y ] && { echo "unknown option -- Y" >&2; exit 1; }; done\nexec /usr/bin/ssh-keygen "$@"\n', { mode: 0o755 });
    const path = process.env['PATH'];
    process.env['PATH'] = `${bin}:${path}`;
    try {
      const key = new SigningKey(await readFile(keyPath, 'utf8'), 'RELEASE_SIGNING_KEY_FILE');
      await expect(signWithKey(key, Buffer.from('x'))).rejects.toThrow(
        new ReleaseSigningError("this machine's ssh-keygen cannot sign releases: ssh-keygen -Y sign needs OpenSSH 8.1 or newer; upgrade the OpenSSH client (the openssh-client package, openssh on RHEL), then release again"),
      );
    } finally {
      process.env['PATH'] = path;
    }
  });

  it('fails at once for a key protected by a passphrase, saying so, even where a terminal could ask for it', async () => {
    const keyFile = join(scratch, 'key-with-passphrase');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'a passphrase', '-C', 'spec', '-f', keyFile]);
    const program = join(scratch, 'sign-with-passphrase.ts');
    await writeFile(
      program,
      `import { readFileSync } from 'node:fs';\n` +
        `import { allowedSignerLine, SigningKey } from ${JSON.stringify(join(__dirname, 'release-signing'))};\n` +
        `allowedSignerLine(new SigningKey(readFileSync(${JSON.stringify(keyFile)}, 'utf8'), 'RELEASE_SIGNING_KEY_FILE')).then(() => console.log('no refusal'), (error: Error) => console.log(error.message));\n`,
    );
    // script(1) runs it on a terminal of its own, as a release manager's shell would: ssh-keygen had waited there at "Enter passphrase:".
    const run = await execa('script', ['-qec', `node -r @swc-node/register ${program}`, '/dev/null'], { cwd: workspaceRoot, timeout: 30_000, reject: false });
    expect(run.timedOut).toBe(false);
    expect(run.stdout).toContain('signing with the key from RELEASE_SIGNING_KEY_FILE failed: the key is protected by a passphrase, which an unattended release cannot type');
  }, 60_000);
});
