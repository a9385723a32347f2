import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signatureNamespace, signerPrincipal, signingKeyFileVariable, signingKeyVariable } from '@changemaker/release-contract';
import { ReleaseSigningError } from './bundle-errors';

/**
 * The release manager's OpenSSH private key (unencrypted: packaging runs unattended). The key is a
 * private field, so neither JSON.stringify nor console.log of a plan that holds it can show it.
 */
export class SigningKey {
  readonly #privateKey: string;

  /** `origin` says where it came from, for messages: a variable's name or a path, never the key. */
  constructor(
    privateKey: string,
    readonly origin: string,
  ) {
    this.#privateKey = privateKey.endsWith('\n') ? privateKey : `${privateKey}\n`;
  }

  /** For the mode-600 file ssh-keygen reads, and nothing else. */
  privateKeyText(): string {
    return this.#privateKey;
  }
}

/** $RELEASE_SIGNING_KEY_FILE (a path) or $RELEASE_SIGNING_KEY (the key); none: the release is not signed. */
export async function signingKeyFromEnv(env: NodeJS.ProcessEnv): Promise<SigningKey | undefined> {
  const path = env[signingKeyFileVariable];
  if (path) {
    const privateKey = await readFile(path, 'utf8').catch(() => {
      throw new ReleaseSigningError(`${signingKeyFileVariable}=${path} cannot be read; point it at the release signing key (an OpenSSH private key)`);
    });
    return new SigningKey(privateKey, `${signingKeyFileVariable} (${path})`);
  }
  const inline = env[signingKeyVariable];
  return inline ? new SigningKey(inline, signingKeyVariable) : undefined;
}

/** The detached `ssh-keygen -Y sign` signature of `data`. */
export async function signWithKey(key: SigningKey, data: Buffer): Promise<Buffer> {
  return withKeyFile(key, async (keyFile) => Buffer.from(await sshKeygen(key, ['-Y', 'sign', '-f', keyFile, '-n', signatureNamespace], data)));
}

/**
 * The allowed_signers line that trusts `key`: `release@changemaker-lite ssh-ed25519 AAAA...`. Asked
 * of ssh-keygen once per key: a release checks the line against the trusted lists, then ships it.
 */
export function allowedSignerLine(key: SigningKey): Promise<string> {
  let line = signerLines.get(key);
  if (!line) {
    line = withKeyFile(key, (keyFile) => sshKeygen(key, ['-y', '-f', keyFile])).then((publicKey) => {
      const [type, blob] = publicKey.trim().split(/\s+/);
      return `${signerPrincipal} ${type} ${blob}`;
    });
    signerLines.set(key, line);
  }
  return line;
}

const signerLines = new WeakMap<SigningKey, Promise<string>>();

/** The key in a file only ssh-keygen reads (mode 600, as it demands), removed afterwards: never in arguments. */
async function withKeyFile<T>(key: SigningKey, use: (keyFile: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(join(tmpdir(), 'release-signing-'));
  try {
    const keyFile = join(directory, 'key');
    await writeFile(keyFile, key.privateKeyText(), { mode: 0o600 });
    await chmod(keyFile, 0o600);
    return await use(keyFile);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/**
 * Run in a session of its own, with no terminal to ask on and no askpass program: a key with a
 * passphrase then fails at once instead of leaving a release waiting at "Enter passphrase:" on a
 * terminal (in every task that signs or checks the key).
 */
function withoutPassphrasePrompt() {
  return { detached: true, env: { ...process.env, SSH_ASKPASS_REQUIRE: 'never' } } as const;
}

function sshKeygen(key: SigningKey, args: string[], input?: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh-keygen', args, { stdio: 'pipe', ...withoutPassphrasePrompt() });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const fail = (reason: string) =>
      reject(new ReleaseSigningError(`signing with the key from ${key.origin} failed: ${reason}; it must be an unencrypted OpenSSH private key (ssh-keygen -t ed25519 -N '')`));
    // OpenSSH before 8.1 (RHEL 8's 8.0) has no -Y: the key is not at fault.
    const tooOld = () => reject(new ReleaseSigningError('this machine\'s ssh-keygen cannot sign releases: ssh-keygen -Y sign needs OpenSSH 8.1 or newer; upgrade the OpenSSH client (the openssh-client package, openssh on RHEL), then release again'));
    child.on('error', (error: NodeJS.ErrnoException) => fail(error.code === 'ENOENT' ? 'ssh-keygen is not installed (Debian: openssh-client)' : error.message));
    child.on('close', (code) => {
      if (code === 0) return resolve(Buffer.concat(stdout).toString('utf8'));
      // ssh-keygen's own words never hold the key; the first line says what was wrong with it.
      const said = Buffer.concat(stderr).toString('utf8');
      if (/option -- '?Y/.test(said)) return tooOld();
      fail(/passphrase/i.test(said) ? 'the key is protected by a passphrase, which an unattended release cannot type' : said.trim().split('\n')[0] || `ssh-keygen exited with status ${code}`);
    });
    // ssh-keygen -y never reads its input and may be gone before it is closed: its answer tells.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
