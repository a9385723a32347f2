import { basename } from 'node:path';
import { SecretRefusedError } from './bundle-errors';
import type { SourceFile } from './source-file';

const ENV_TEMPLATES = new Set(['.env.example', '.env.sample', '.env.template']);
const PRIVATE_KEY_NAMES = /^(id_(rsa|dsa|ecdsa|ed25519)|.*\.(pem|key|p12|pfx|jks|keystore|ppk))$/i;
const PRIVATE_KEY_BLOCK = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----/;
const TOKEN_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\bAKIA[0-9A-Z]{16}\b/, 'an AWS access key id'],
  [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, 'a GitHub token'],
  [/\bglpat-[A-Za-z0-9_-]{20,}\b/, 'a GitLab token'],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}\b/, 'a Slack token'],
  [/\bsk_live_[A-Za-z0-9]{16,}\b/, 'a Stripe secret key'],
];
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
  const text = file.content.toString('latin1');
  if (PRIVATE_KEY_BLOCK.test(text)) return 'contains a private key';
  for (const [pattern, kind] of TOKEN_PATTERNS) if (pattern.test(text)) return `contains what looks like ${kind}`;
  if (ENV_TEMPLATES.has(name)) return realValueInTemplate(text);
  return undefined;
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
