import { defaultRetryPolicy, isRetryableStatus, retryDelayMs } from './retry-policy';

describe('the retry policy registry and Gitea clients share', () => {
  const policy = { ...defaultRetryPolicy, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };

  it('retries throttling, timeouts and server errors, but not what another try cannot change', () => {
    expect([408, 429, 500, 502, 503, 504].filter(isRetryableStatus)).toEqual([408, 429, 500, 502, 503, 504]);
    expect([400, 401, 403, 404, 409, 413, 501, 505].filter(isRetryableStatus)).toEqual([]);
  });

  it('backs off exponentially with jitter up to its ceiling', () => {
    for (let i = 0; i < 50; i++) {
      expect(retryDelayMs(policy, 1)).toBeGreaterThanOrEqual(50);
      expect(retryDelayMs(policy, 1)).toBeLessThanOrEqual(100);
      expect(retryDelayMs(policy, 10)).toBeGreaterThanOrEqual(500);
      expect(retryDelayMs(policy, 10)).toBeLessThanOrEqual(1000);
    }
  });

  it('waits as long as Retry-After says, in seconds or as an HTTP date, capped', () => {
    expect(retryDelayMs(policy, 1, '2')).toBe(2000);
    expect(retryDelayMs(policy, 1, ['0'])).toBe(0);
    expect(retryDelayMs(policy, 1, '3600')).toBe(5000);
    const inThreeSeconds = new Date(Date.now() + 3000).toUTCString();
    expect(retryDelayMs(policy, 1, inThreeSeconds)).toBeGreaterThan(1500);
    expect(retryDelayMs(policy, 1, inThreeSeconds)).toBeLessThanOrEqual(3000);
    expect(retryDelayMs(policy, 1, new Date(Date.now() - 60_000).toUTCString())).toBe(0);
    expect(retryDelayMs(policy, 1, 'soon')).toBeLessThanOrEqual(100);
  });
});
