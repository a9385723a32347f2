import { sleep } from './retry-policy';

/** Below this many remaining pulls we start spacing requests out rather than run into 429s. */
const lowWatermark = 10;
const maxPauseMs = 10_000;

/**
 * Docker Hub reports its pull quota as `ratelimit-remaining: 95;w=21600`. When it runs low the
 * remaining pulls are spread over the rest of the window instead of spent at once.
 */
export class RateLimitPacer {
  private readonly pauseByHost = new Map<string, number>();

  observe(host: string, header: string | undefined): void {
    const match = header ? /^\s*(\d+)(?:\s*;\s*w=(\d+))?/.exec(header) : null;
    if (!match) return;
    const remaining = Number(match[1]);
    const windowSeconds = Number(match[2] ?? 21600);
    if (remaining >= lowWatermark) {
      this.pauseByHost.delete(host);
      return;
    }
    this.pauseByHost.set(host, Math.min(maxPauseMs, (windowSeconds * 1000) / Math.max(remaining, 1)));
  }

  /** How long to wait before the next request to this host, in ms. */
  pauseFor(host: string): number {
    return this.pauseByHost.get(host) ?? 0;
  }

  async wait(host: string): Promise<void> {
    const pause = this.pauseFor(host);
    if (pause > 0) await sleep(pause);
  }
}
