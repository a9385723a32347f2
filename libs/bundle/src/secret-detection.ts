import { basename } from 'node:path';
import { SecretRefusedError } from './bundle-errors';
import type { SourceFile } from './source-file';

const ENV_TEMPLATES = new Set(['.env.example', '.env.sample', '.env.template']);
const PRIVATE_KEY_NAMES = /^(id_(rsa|dsa|ecdsa|ed25519)|.*\.(pem|key|p12|pfx|jks|keystore|ppk))$/i;
/** Each content pattern with the literals its matches contain: a fast byte search decides whether the regex runs. */
const CONTENT_PATTERNS: ReadonlyArray<{ hints: string[]; pattern: RegExp; reason: string }> = [
  { hints: ['PRIVATE KEY'], pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----/, reason: 'contains a private key' },
  { hints: ['AKIA'], pattern: /\bAKIA[0-9A-Z]{16}\b/, reason: 'contains what looks like an AWS access key id' },
  { hints: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/, reason: 'contains what looks like a GitHub token' },
  { hints: ['glpat-'], pattern: /\bglpat-[A-Za-z0-9_-]{20,}\b/, reason: 'contains what looks like a GitLab token' },
  { hints: ['xoxa-', 'xoxb-', 'xoxp-', 'xoxr-', 'xoxs-'], pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/, reason: 'contains what looks like a Slack token' },
  { hints: ['sk_live_'], pattern: /\bsk_live_[A-Za-z0-9]{16,}\b/, reason: 'contains what looks like a Stripe secret key' },
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
  const found = CONTENT_PATTERNS.find(
    ({ hints, pattern }) => hints.some((hint) => file.content.includes(hint)) && pattern.test(file.content.toString('latin1')),
  );
  if (found) return found.reason;
  if (ENV_TEMPLATES.has(name)) return realValueInTemplate(file.content.toString('utf8'));
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
