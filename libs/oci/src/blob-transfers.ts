/**
 * Puts transfers of one blob to one store (registry host or layout) in a line across
 * concurrent copies: the first uploads it, the next ones then find it present or mount it,
 * instead of all uploading the same shared base layer at once.
 */
export class BlobTransfers {
  private readonly latest = new Map<string, Promise<unknown>>();

  run<T>(storeKey: string, digest: string, transfer: () => Promise<T>): Promise<T> {
    const key = `${storeKey} ${digest}`;
    const previous = this.latest.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(transfer);
    this.latest.set(key, next);
    const forget = () => {
      if (this.latest.get(key) === next) this.latest.delete(key);
    };
    next.then(forget, forget);
    return next;
  }
}
