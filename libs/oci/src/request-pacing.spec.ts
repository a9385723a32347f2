import { HostLimiter } from './host-limiter';
import { RateLimitPacer } from './rate-limit-pacer';
import { defaultRetryPolicy, isRetryableStatus, retryDelayMs } from './retry-policy';
import { parseAuthChallenge } from './www-authenticate';

describe('retryDelayMs', () => {
  const policy = { ...defaultRetryPolicy, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };

  it('honours Retry-After in seconds and as an HTTP date, capped', () => {
    expect(retryDelayMs(policy, 1, '2')).toBe(2000);
    expect(retryDelayMs(policy, 1, '600')).toBe(5000);
    const inThreeSeconds = new Date(Date.now() + 3000).toUTCString();
    expect(retryDelayMs(policy, 1, inThreeSeconds)).toBeGreaterThan(1500);
    expect(retryDelayMs(policy, 1, inThreeSeconds)).toBeLessThanOrEqual(3000);
  });

  it('backs off exponentially with jitter within [ceiling/2, ceiling], up to the maximum', () => {
    for (const [attempt, ceiling] of [[1, 100], [2, 200], [3, 400], [5, 1000], [9, 1000]]) {
      const delays = Array.from({ length: 50 }, () => retryDelayMs(policy, attempt));
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(ceiling / 2);
      expect(Math.max(...delays)).toBeLessThanOrEqual(ceiling);
      expect(new Set(delays).size).toBeGreaterThan(1);
    }
  });

  it('retries 429, 408 and 5xx, but not 501, 505 or 4xx', () => {
    expect([429, 408, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 416, 501, 505].some(isRetryableStatus)).toBe(false);
  });
});

describe('RateLimitPacer', () => {
  it('spreads the last pulls of a Docker Hub window and stops once the quota recovers', () => {
    const pacer = new RateLimitPacer();
    pacer.observe('registry-1.docker.io', '95;w=21600');
    expect(pacer.pauseFor('registry-1.docker.io')).toBe(0);
    pacer.observe('registry-1.docker.io', '4;w=20');
    expect(pacer.pauseFor('registry-1.docker.io')).toBe(5000);
    pacer.observe('registry-1.docker.io', '1;w=21600');
    expect(pacer.pauseFor('registry-1.docker.io')).toBe(10_000);
    expect(pacer.pauseFor('ghcr.io')).toBe(0);
    pacer.observe('registry-1.docker.io', '100;w=21600');
    expect(pacer.pauseFor('registry-1.docker.io')).toBe(0);
  });
});

describe('HostLimiter', () => {
  it('runs at most the limit per host at once, hosts independently', async () => {
    const limiter = new HostLimiter(2);
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const task = (host: string) => limiter.run(host, async () => {
      running.set(host, (running.get(host) ?? 0) + 1);
      peak.set(host, Math.max(peak.get(host) ?? 0, running.get(host) ?? 0));
      await new Promise((resolve) => setImmediate(resolve));
      running.set(host, (running.get(host) ?? 0) - 1);
      return host;
    });
    const results = await Promise.all([...Array(6)].flatMap(() => [task('a'), task('b')]));
    expect(results).toHaveLength(12);
    expect(Object.fromEntries(peak)).toEqual({ a: 2, b: 2 });
  });

  it('frees the slot when a task fails', async () => {
    const limiter = new HostLimiter(1);
    await expect(limiter.run('a', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(limiter.run('a', async () => 'next')).resolves.toBe('next');
  });
});

describe('parseAuthChallenge', () => {
  it('reads Bearer realm, service and scope, and Basic realm', () => {
    expect(parseAuthChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual({
      scheme: 'bearer', realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull',
    });
    expect(parseAuthChallenge('Basic realm="Gitea Package API"')).toEqual({ scheme: 'basic', realm: 'Gitea Package API' });
    expect(parseAuthChallenge('Bearer service="x"')).toBeUndefined();
    expect(parseAuthChallenge(undefined)).toBeUndefined();
  });
});
