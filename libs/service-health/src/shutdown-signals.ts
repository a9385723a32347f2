/** The signals `docker stop` and Ctrl-C send. */
export const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number];

export interface SignalSource {
  once(signal: ShutdownSignal, listener: () => void): unknown;
}

/**
 * Node as PID 1 in a container ignores SIGTERM unless it listens for it, so `docker stop`
 * would wait its full timeout and then kill the service mid-request.
 */
export function closeOnShutdownSignals(close: () => unknown, signals: SignalSource = process): void {
  let closing = false;
  for (const signal of SHUTDOWN_SIGNALS) {
    signals.once(signal, () => {
      if (closing) return;
      closing = true;
      void close();
    });
  }
}
