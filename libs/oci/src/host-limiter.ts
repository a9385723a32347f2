/** A counting semaphore per registry host, so a mirror run never floods one registry. */
export class HostLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly limitPerHost: number) {
    if (!Number.isInteger(limitPerHost) || limitPerHost < 1) throw new RangeError('concurrency per host must be a positive integer');
  }

  async run<T>(host: string, task: () => Promise<T>): Promise<T> {
    await this.acquire(host);
    try {
      return await task();
    } finally {
      this.release(host);
    }
  }

  private async acquire(host: string): Promise<void> {
    const count = this.active.get(host) ?? 0;
    if (count < this.limitPerHost) {
      this.active.set(host, count + 1);
      return;
    }
    await new Promise<void>((resolve) => {
      const queue = this.waiting.get(host) ?? [];
      queue.push(resolve);
      this.waiting.set(host, queue);
    });
  }

  private release(host: string): void {
    const next = this.waiting.get(host)?.shift();
    // The slot passes straight to the next waiter, so the count stays the same.
    if (next) return next();
    this.active.set(host, (this.active.get(host) ?? 1) - 1);
  }
}
