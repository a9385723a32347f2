import { defaultRetryPolicy as sharedRetryPolicy, type RetryPolicy } from '@changemaker/oci';

export { isRetryableStatus, isUntrustedCertificate, retryDelayMs, sleep, type RetryPolicy } from '@changemaker/oci';

/** libs/oci's policy, tuned for a handful of small API calls to one host: fewer, slower tries. */
export const defaultRetryPolicy: RetryPolicy = { ...sharedRetryPolicy, attempts: 5, baseDelayMs: 500, maxDelayMs: 10_000 };

export interface RetryNotice {
  method: string;
  path: string;
  attempt: number;
  attempts: number;
  reason: string;
  delayMs: number;
}
