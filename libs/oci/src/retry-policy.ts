/**
 * The workspace's one retry policy, for registry and Gitea calls alike: which answers are worth
 * another try, how long to wait (Retry-After as seconds or an HTTP date, capped), how often.
 */
export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is cut down to it, so one bad header cannot stall a run. */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 15_000,
  maxRetryAfterMs: 60_000,
};

/**
 * A dry run's: one try. It only plans, and says what it could not check; waiting out the retries of
 * a server that is down (about 20 s for `nx release --dry-run`) delays a plan that is re-run anyway.
 */
export const dryRunRetryPolicy: Partial<RetryPolicy> = { attempts: 1 };

/**
 * A network failure no retry mends: the server's TLS certificate is not trusted (self-signed, from a
 * private CA, expired, for another name). Tried again, it fails the same way after the whole backoff.
 */
export function isUntrustedCertificate(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && untrustedCertificateCodes.has(code);
}

const untrustedCertificateCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What to do about an untrusted certificate: Node reads its own list of CAs, not the system's. */
export const untrustedCertificateRemedy =
  "Node trusts its own list of CAs, not the system's: for a server whose certificate comes from a private CA, set NODE_EXTRA_CA_CERTS to that CA's certificate (a PEM file)";

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

/**
 * Exponential backoff with full jitter (so parallel copies do not retry in lockstep), unless
 * the registry said how long to wait.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfter?: string | string[]): number {
  const requested = parseRetryAfterMs(retryAfter);
  if (requested !== undefined) return Math.min(requested, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

function parseRetryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
