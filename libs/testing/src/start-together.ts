/** Something started for a test or the demo that must be stopped again: a server, a sandbox, a temp directory. */
export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Starts several things at once, all or none: when one fails to start, the others that did are
 * stopped before its error is thrown. With a bare Promise.all, a registry that started beside one
 * that failed kept running (and its temp directory stayed) after the caller had given up.
 */
export async function startTogether<T extends readonly Stoppable[]>(starting: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(starting);
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (!failed) return settled.map((result) => (result as PromiseFulfilledResult<Stoppable>).value) as unknown as T;
  await Promise.allSettled(settled.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)));
  throw failed.reason;
}
