import { constants } from 'node:os';

/** The signals that stop a run part-way: Ctrl-C, a cancelled CI job, a closed ssh session. */
export const stopSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Conventional exit status of a process stopped by `signal`: 128 + its number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}
