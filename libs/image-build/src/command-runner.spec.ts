import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { commandSucceeds, processCommandRunner, type CommandOptions, type CommandResult } from './command-runner';

const workspaceRoot = resolve(__dirname, '../../..');
const runner = processCommandRunner({ PATH: process.env['PATH'] });

function sh(script: string, options?: CommandOptions): Promise<CommandResult> {
  return runner.run('sh', ['-c', script], options);
}

async function linesOf(script: string): Promise<string[]> {
  const lines: string[] = [];
  await sh(script, { onLine: (line) => lines.push(line) });
  return lines;
}

/** Whether a process still runs: an exited one may linger as a zombie until something reaps it. */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** A signalled process ends a moment after the signal was sent. */
async function endsSoon(pid: number): Promise<boolean> {
  for (let attempt = 0; attempt < 40 && isRunning(pid); attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
  return !isRunning(pid);
}

describe('processCommandRunner', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cm-command-runner-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('resolves with the exit code and both outputs, each without its single final newline', async () => {
    expect(await sh('printf "out\\n\\n"; printf "err\\r\\n" >&2; exit 3')).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err' });
  });

  it('gives the command exactly the environment it was given, nothing of this process', async () => {
    process.env['COMMAND_RUNNER_SPEC_LEAK'] = 'leaked';
    try {
      const result = await processCommandRunner({ PATH: '/usr/bin:/bin', KEPT: 'runner' }).run('env', [], { env: { ADDED: 'call' } });
      expect(result.stdout.split('\n').sort()).toEqual(['ADDED=call', 'KEPT=runner', 'PATH=/usr/bin:/bin']);
    } finally {
      delete process.env['COMMAND_RUNNER_SPEC_LEAK'];
    }
  });

  it('stops a command that runs past its timeout, and says so in its error output, though a process it started holds its output', async () => {
    const started = Date.now();
    const result = await sh('echo started >&2; sleep 3', { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result).toEqual({ exitCode: 137, stdout: '', stderr: 'started\nsh did not answer within 0.3 s and was stopped' });
  });

  it('writes the input to stdin and closes it', async () => {
    expect((await runner.run('cat', [], { input: 'secret\n' })).stdout).toBe('secret');
    // Without input, stdin is closed all the same: cat ends instead of waiting for it.
    expect(await runner.run('cat', [])).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  }, 5_000);

  it('does not fail when the command exits without reading its input', async () => {
    const result = await sh('exit 0', { input: 'x'.repeat(4 * 1024 * 1024) });
    expect(result.exitCode).toBe(0);
  });

  it('hands over each line of stdout and stderr in the order they were printed, the last one even without a newline', async () => {
    expect(await linesOf('echo one; sleep 0.1; echo two >&2; sleep 0.1; printf "three\\r\\nfo"; sleep 0.1; printf "ur\\n"; printf five')).toEqual([
      'one',
      'two',
      'three',
      'four',
      'five',
    ]);
  });

  it('decodes a character whose bytes arrive apart', async () => {
    expect(await linesOf("printf '\\303'; sleep 0.1; printf '\\251\\n'")).toEqual(['\u00e9']);
  });

  it('hands over a line as soon as it is printed, while the command still runs', async () => {
    const signal = join(dir, 'line-seen');
    const script = `echo waiting; while [ ! -e "${signal}" ]; do sleep 0.05; done; echo seen`;
    const lines: string[] = [];
    const onLine = (line: string) => {
      lines.push(line);
      if (line === 'waiting') void writeFile(signal, '');
    };
    const result = await sh(script, { onLine });
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual(['waiting', 'seen']);
  }, 10_000);

  it('rejects with what onLine threw and stops calling it', async () => {
    const onLine = jest.fn(() => {
      throw new Error('log failed');
    });
    await expect(sh('echo a; echo b', { onLine })).rejects.toThrow('log failed');
    expect(onLine).toHaveBeenCalledTimes(1);
  });

  it('resolves with exit code 127 and one line naming a command that is not found', async () => {
    expect(await runner.run('command-runner-spec-missing', ['--version'])).toEqual({
      exitCode: 127,
      stdout: '',
      stderr: 'command-runner-spec-missing: not found (spawn command-runner-spec-missing ENOENT)',
    });
    expect(await commandSucceeds(runner, 'command-runner-spec-missing', [])).toBe(false);
    expect(await commandSucceeds(runner, 'true', [])).toBe(true);
  });

  it('resolves with exit code 127 and one line naming a command that may not be run', async () => {
    const script = join(dir, 'not-executable');
    await writeFile(script, '#!/bin/sh\n');
    await chmod(script, 0o644);
    expect(await runner.run(script, [])).toEqual({ exitCode: 127, stdout: '', stderr: `${script}: cannot be started (spawn ${script} EACCES)` });
  });

  it('resolves with exit code 127, not a rejection, when Node refuses the arguments', async () => {
    const result = await runner.run('echo', ['nul\0byte']);
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toMatch(/^echo: cannot be started \(.*null bytes[^\n]*$/);
  });

  it('resolves with 128 + the signal number, and the output so far, for a command killed by a signal', async () => {
    expect(await sh('echo before; kill -TERM $$; echo after')).toEqual({ exitCode: 143, stdout: 'before', stderr: '' });
    expect((await sh('kill -KILL $$')).exitCode).toBe(137);
  });

  it('kills a command still running when this process exits', async () => {
    const exitingMidCommand = `
      const { processCommandRunner } = require('./libs/image-build/src/command-runner.ts');
      processCommandRunner({ PATH: process.env.PATH }).run('sh', ['-c', 'echo $$; exec sleep 30'], {
        onLine: (pid) => { process.stdout.write(pid + '\\n'); process.exit(0); },
      });
    `;
    const parent = spawn(process.execPath, ['-r', '@swc-node/register', '-e', exitingMidCommand], { cwd: workspaceRoot });
    let printed = '';
    parent.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    expect(await new Promise((resolve) => parent.on('close', resolve))).toBe(0);
    const pid = Number(printed.trim());
    expect(pid).toBeGreaterThan(0);
    expect(await endsSoon(pid)).toBe(true);
  }, 30_000);

  it('kills a command still running when this process alone is stopped by a signal, which then ends it as before', async () => {
    const stoppedMidCommand = `
      const { processCommandRunner } = require('./libs/image-build/src/command-runner.ts');
      processCommandRunner({ PATH: process.env.PATH }).run('sh', ['-c', 'echo $$; exec sleep 30'], {
        onLine: (pid) => process.stdout.write(pid + '\\n'),
      });
    `;
    // Its own process group: the signal reaches this process alone, not the command, as when Nx stops a task.
    const parent = spawn(process.execPath, ['-r', '@swc-node/register', '-e', stoppedMidCommand], { cwd: workspaceRoot, detached: true });
    const pid = await new Promise<number>((resolve) => parent.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
    expect(pid).toBeGreaterThan(0);
    parent.kill('SIGTERM');
    expect(await new Promise((resolve) => parent.on('close', (_code, signal) => resolve(signal)))).toBe('SIGTERM');
    expect(await endsSoon(pid)).toBe(true);
  }, 30_000);
});
