import { EventEmitter } from 'node:events';
import { closeOnShutdownSignals } from './shutdown-signals';

describe('closeOnShutdownSignals', () => {
  it.each(['SIGTERM', 'SIGINT'])('closes the service on %s', (signal) => {
    const signals = new EventEmitter();
    let closed = 0;
    closeOnShutdownSignals(() => closed++, signals);

    signals.emit(signal);

    expect(closed).toBe(1);
  });

  it('closes only once when a second signal follows the first', () => {
    const signals = new EventEmitter();
    let closed = 0;
    closeOnShutdownSignals(() => closed++, signals);

    signals.emit('SIGTERM');
    signals.emit('SIGINT');
    signals.emit('SIGTERM');

    expect(closed).toBe(1);
  });

  it('does nothing before a signal arrives', () => {
    const signals = new EventEmitter();
    let closed = 0;
    closeOnShutdownSignals(() => closed++, signals);

    signals.emit('SIGHUP');

    expect(closed).toBe(0);
  });
});
