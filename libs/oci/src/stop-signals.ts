import { constants } from 'node:os';

/** The signals that stop a run part-way: Ctrl-C, a cancelled CI job, a closed ssh session. */
export const stopSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Conventional exit status of a process stopped by `signal`: 128 + its number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

/**
 * Runs `cleanup` when a stop signal arrives, before the signal ends the process (which skips every
 * `finally` and 'exit' listener). Then the signal ends it as it would have, unless another listener
 * of this process is still there to handle it; each user of this function defers to the others so.
 * Returns the way to stop watching, once what `cleanup` undoes is undone the ordinary way.
 */
export function whenStopped(cleanup: () => void): () => void {
  const stopWatching = () => {
    for (const name of stopSignals) process.removeListener(name, onSignal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    stopWatching();
    cleanup();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  for (const name of stopSignals) process.on(name, onSignal);
  return stopWatching;
}
