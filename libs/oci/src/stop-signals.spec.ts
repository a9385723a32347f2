import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { signalExitCode } from './stop-signals';

describe('signalExitCode', () => {
  it('is 128 + the signal number, as a shell reports a process the signal stopped', () => {
    expect([signalExitCode('SIGHUP'), signalExitCode('SIGINT'), signalExitCode('SIGTERM')]).toEqual([129, 130, 143]);
  });
});

describe('whenStopped', () => {
  /** Runs `script` with whenStopped in scope, sends `signal` once it printed "ready", and returns what it printed and how it ended. */
  async function stoppedRun(script: string, signal: NodeJS.Signals): Promise<{ printed: string; code: number | null; signal: NodeJS.Signals | null }> {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', '-e', `const { whenStopped } = require('./libs/oci/src/stop-signals.ts');\n${script}\nsetInterval(() => undefined, 1000);\nconsole.log('ready');`], {
      cwd: resolve(__dirname, '../../..'),
    });
    let printed = '';
    const sendOnceReady = (chunk: Buffer) => {
      printed += chunk.toString();
      if (!printed.includes('ready')) return;
      child.stdout.off('data', sendOnceReady);
      child.stdout.on('data', (rest: Buffer) => (printed += rest.toString()));
      child.kill(signal);
    };
    child.stdout.on('data', sendOnceReady);
    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('close', (code, by) => done({ code, signal: by })));
    return { printed: printed.replace('ready\n', ''), ...ended };
  }

  it('runs every watcher\'s cleanup, then the signal ends the process as it would have', async () => {
    const run = await stoppedRun("whenStopped(() => console.log('first'));\nwhenStopped(() => console.log('second'));", 'SIGTERM');
    expect(run).toEqual({ printed: 'first\nsecond\n', code: null, signal: 'SIGTERM' });
  }, 30_000);

  it('runs no cleanup once it stopped watching', async () => {
    const run = await stoppedRun("whenStopped(() => console.log('stale'))();\nwhenStopped(() => console.log('current'));", 'SIGINT');
    expect(run).toEqual({ printed: 'current\n', code: null, signal: 'SIGINT' });
  }, 30_000);

  it('leaves the signal, once, to a listener of the process that handles it its own way', async () => {
    const run = await stoppedRun("whenStopped(() => console.log('cleaned'));\nprocess.on('SIGTERM', () => { console.log('handled'); setTimeout(() => process.exit(7), 200); });", 'SIGTERM');
    expect(run).toEqual({ printed: 'cleaned\nhandled\n', code: 7, signal: null });
  }, 30_000);
});
