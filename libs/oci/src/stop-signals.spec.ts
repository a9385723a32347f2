import { signalExitCode } from './stop-signals';

describe('signalExitCode', () => {
  it('is 128 + the signal number, as a shell reports a process the signal stopped', () => {
    expect([signalExitCode('SIGHUP'), signalExitCode('SIGINT'), signalExitCode('SIGTERM')]).toEqual([129, 130, 143]);
  });
});
