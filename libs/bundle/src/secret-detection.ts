import { basename } from 'node:path';
import { SecretRefusedError } from './bundle-errors';
import type { SourceFile } from './source-file';

const ENV_TEMPLATES = new Set(['.env.example', '.env.sample', '.env.template']);
const PRIVATE_KEY_NAMES = /^(id_(rsa|dsa|ecdsa|ed25519)|.*\.(pem|key|p12|pfx|jks|keystore|ppk))$/i;
/** Files that exist only to hold passwords or tokens: git's credential store, netrc, PostgreSQL's password file. */
const CREDENTIAL_STORE_NAMES = new Set(['.git-credentials', '.netrc', '_netrc', '.pgpass']);
const CONTENT_PATTERNS: ReadonlyArray<{ pattern: RegExp; reason: string }> = [
  { pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/, reason: 'contains a private key' },
  { pattern: /\bAKIA[0-9A-Z]{16}\b/, reason: 'contains what looks like an AWS access key id' },
  { pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/, reason: 'contains what looks like a GitHub token' },
  { pattern: /\bglpat-[A-Za-z0-9_-]{20,}\b/, reason: 'contains what looks like a GitLab token' },
  { pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/, reason: 'contains what looks like a Slack token' },
  { pattern: /\bsk_live_[A-Za-z0-9]{16,}\b/, reason: 'contains what looks like a Stripe secret key' },
  { pattern: /\bnpm_[A-Za-z0-9]{36}\b/, reason: 'contains what looks like an npm token' },
];
/** user:password@ in a URL; a password that is a variable, a placeholder or a word docs use is none. */
// From the scheme's "://" on, whatever the scheme: a literal first lets the engine skip to each "://"
// instead of trying every word of every file (a sixth of packaging's time in bench:package).
const URL_CREDENTIALS = /:\/\/[^\s/:@'"]+:([^\s/@'"]+)@[^\s/@]/g;
const DOCUMENTED_PASSWORD = /^(password|passwd|pass|pwd|secret|token|changeme)$/i;
/** One pass over each file finds any of them; only a hit pays for telling which. */
const ANY_CONTENT_PATTERN = new RegExp(CONTENT_PATTERNS.map(({ pattern }) => pattern.source).join('|'));
const SECRET_VARIABLE = /^\s*(?:export\s+)?([A-Z0-9_]*(?:PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY)[A-Z0-9_]*)\s*=\s*(.*)$/;
const PLACEHOLDER = /^["']?(|.*(change|<|\$\{|example|placeholder|xxx|replace).*)["']?$/i;

/**
 * Refuses a file a release must never carry: a real .env, a private key, a known token format,
 * or an env template whose secret variables hold real-looking values. The error names the file
 * and the kind of secret, never the secret itself.
 */
export function refuseSecrets(file: SourceFile): void {
  const reason = secretIn(file);
  if (reason) throw new SecretRefusedError(file.workspacePath, reason);
}

function secretIn(file: SourceFile): string | undefined {
  const name = basename(file.workspacePath);
  if (isRealEnvFile(name)) return 'is a real .env file (only .env.example ships)';
  if (PRIVATE_KEY_NAMES.test(name)) return 'is named like a private key or keystore';
  if (CREDENTIAL_STORE_NAMES.has(name)) return 'is a credential store (git credentials, netrc or pgpass)';
  const text = file.content.toString('latin1');
  if (ANY_CONTENT_PATTERN.test(text)) return CONTENT_PATTERNS.find(({ pattern }) => pattern.test(text))?.reason;
  if (hasUrlCredentials(text)) return 'contains a URL with a password in it (user:password@host)';
  if (ENV_TEMPLATES.has(name)) return realValueInTemplate(file.content.toString('utf8'));
  return undefined;
}

function hasUrlCredentials(text: string): boolean {
  for (const [, password] of text.matchAll(URL_CREDENTIALS)) {
    // `$VAR`, `${VAR}`: filled in where the file is used, as a compose file or script does.
    if (!password.includes('$') && !PLACEHOLDER.test(password) && !DOCUMENTED_PASSWORD.test(password)) return true;
  }
  return false;
}

function isRealEnvFile(name: string): boolean {
  return (name === '.env' || name.startsWith('.env.')) && !ENV_TEMPLATES.has(name);
}

function withoutComment(value: string): string {
  return value.replace(/(^|\s)#.*$/, '').trim();
}

function realValueInTemplate(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const match = SECRET_VARIABLE.exec(line);
    if (match && !PLACEHOLDER.test(withoutComment(match[2]))) {
      return `sets ${match[1]} to a value that is not a placeholder (leave it empty; config.sh generates it)`;
    }
  }
  return undefined;
}
