import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bakedAllowedSigners, trustedReleaseKeys } from './allowed-signers';
import { signatureNamespace, signerPrincipal } from './release-signing';

const run = promisify(execFile);

/**
 * The parser must agree with the verifier the servers run: each allowed_signers text is given to
 * `ssh-keygen -Y verify` exactly as install.sh and upgrade.sh call it, with a real signature.
 */
describe('trustedReleaseKeys agrees with ssh-keygen -Y verify', () => {
  let dir: string;
  let key: string;
  let otherKey: string;
  let signature: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-allowed-signers-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other')]);
    key = (await readFile(join(dir, 'key.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    otherKey = (await readFile(join(dir, 'other.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    await writeFile(join(dir, 'SHA256SUMS'), 'the signed bytes\n');
    await run('ssh-keygen', ['-Y', 'sign', '-f', join(dir, 'key'), '-n', signatureNamespace, join(dir, 'SHA256SUMS')]);
    signature = join(dir, 'SHA256SUMS.sig');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function sshKeygenAccepts(allowedSigners: string): Promise<boolean> {
    await writeFile(join(dir, 'allowed_signers'), allowedSigners);
    const verify = run('ssh-keygen', ['-Y', 'verify', '-f', join(dir, 'allowed_signers'), '-I', signerPrincipal, '-n', signatureNamespace, '-s', signature]);
    verify.child.stdin?.end(await readFile(join(dir, 'SHA256SUMS')));
    return verify.then(() => true, () => false);
  }

  it.each([
    ['the plain line packaging writes', (k: string) => `${signerPrincipal} ${k}\n`],
    ['a comment after the key', (k: string) => `${signerPrincipal} ${k} release key 2026\n`],
    ['comments and blank lines around it', (k: string) => `# trusted\n\n${signerPrincipal} ${k}\n# end\n`],
    ['a principal pattern', (k: string) => `*@changemaker-lite ${k}\n`],
    ['one of several principals', (k: string) => `ops@example.org,${signerPrincipal} ${k}\n`],
    ['our namespace among the allowed ones', (k: string) => `${signerPrincipal} namespaces="git,${signatureNamespace}" ${k}\n`],
    ['another namespace only', (k: string) => `${signerPrincipal} namespaces="git" ${k}\n`],
    ['another principal', (k: string) => `ops@example.org ${k}\n`],
    ['a negated principal', (k: string) => `*@changemaker-lite,!${signerPrincipal} ${k}\n`],
    ['a certificate authority', (k: string) => `${signerPrincipal} cert-authority ${k}\n`],
    ['a commented-out line', (k: string) => `# ${signerPrincipal} ${k}\n`],
  ])('%s', async (_case, text) => {
    const allowed = text(key);
    expect(trustedReleaseKeys(allowed).has(key)).toBe(await sshKeygenAccepts(allowed));
  });

  it('is checked against a verifier that accepts and refuses (so agreement means something)', async () => {
    expect(await sshKeygenAccepts(`${signerPrincipal} ${key}\n`)).toBe(true);
    expect(await sshKeygenAccepts(`${signerPrincipal} namespaces="git" ${key}\n`)).toBe(false);
  });

  it('trusts no key that is not listed, whatever else the file says', async () => {
    const allowed = `${signerPrincipal} ${otherKey}\n`;
    expect(await sshKeygenAccepts(allowed)).toBe(false);
    expect([...trustedReleaseKeys(allowed)]).toEqual([otherKey]);
  });
});

describe('bakedAllowedSigners', () => {
  it('reads the block install.sh verifies a first install with', () => {
    expect(bakedAllowedSigners("set -e\nbaked_allowed_signers='\nrelease@changemaker-lite ssh-ed25519 AAAA\n'\nfoo=1\n")).toBe('\nrelease@changemaker-lite ssh-ed25519 AAAA\n');
    expect(bakedAllowedSigners('set -e\n')).toBeUndefined();
  });
});
