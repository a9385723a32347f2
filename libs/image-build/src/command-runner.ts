import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { signalExitCode, whenStopped } from '@changemaker/oci';

export interface CommandOptions {
  /** Written to the command's stdin: the only way a secret is handed to an engine. */
  input?: string;
  env?: Record<string, string>;
  /** Each line the command prints, as it prints it. */
  onLine?: (line: string) => void;
  /** Killed after this long, its result then ending with a line that says so. */
  timeoutMs?: number;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs engine commands; a seam so a test can record every call while still running it for real. */
export interface CommandRunner {
  run(command: string, args: readonly string[], options?: CommandOptions): Promise<CommandResult>;
}

/** Runs commands as processes in exactly this environment (PATH included), plus any per-call additions. */
export function processCommandRunner(env: NodeJS.ProcessEnv): CommandRunner {
  return {
    run: (command, args, options = {}) => runProcess(command, args, { ...env, ...options.env } as Record<string, string>, options),
  };
}

// node:child_process rather than execa: loading execa cost every task process that imports this library
// 50-70 ms of CPU, whether or not it ever ran a command.
function runProcess(command: string, args: readonly string[], env: Record<string, string>, options: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      // Given env, the child sees nothing else of this process's environment.
      child = spawn(command, args, { env });
    } catch (error) {
      resolve(notStarted(command, error as Error));
      return;
    }
    const lines = guardedLines(options.onLine);
    const stdout = readOutput(child.stdout, lines.deliver);
    const stderr = readOutput(child.stderr, lines.deliver);
    writeInput(child, options.input ?? '');
    killOnExit(child);
    const deadline = options.timeoutMs === undefined ? undefined : killAfter(child, options.timeoutMs);
    // A command that cannot be started reports 'error' (and usually 'close' after it): the first settles.
    child.on('error', (error) => resolve(notStarted(command, error)));
    child.on('close', (code, signal) => {
      clearTimeout(deadline?.timer);
      const timedOut = deadline?.expired ? `\n${command} did not answer within ${options.timeoutMs! / 1000} s and was stopped` : '';
      if (lines.failure) reject(lines.failure.error);
      else resolve({ exitCode: exitCodeOf(code, signal), stdout: stdout(), stderr: `${stderr()}${timedOut}` });
    });
  });
}

/**
 * Kills the command once timeoutMs have passed; `expired` says whether it came to that. Its output
 * is closed too: a process it started could hold it open, and the run would wait for that one.
 */
function killAfter(child: ChildProcess, timeoutMs: number): { timer?: NodeJS.Timeout; expired: boolean } {
  const deadline: { timer?: NodeJS.Timeout; expired: boolean } = { expired: false };
  deadline.timer = setTimeout(() => {
    deadline.expired = true;
    child.kill('SIGKILL');
    child.stdout?.destroy();
    child.stderr?.destroy();
  }, timeoutMs);
  return deadline;
}

function notStarted(command: string, error: Error): CommandResult {
  const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'cannot be started';
  return { exitCode: 127, stdout: '', stderr: `${command}: ${reason} (${error.message})` };
}

/** A signal's death reads as a shell reports it, 128 + the signal's number: never as success. */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? (signal ? signalExitCode(signal) : 128);
}

function writeInput(child: ChildProcess, input: string): void {
  // A command that exits without reading its input breaks the pipe (EPIPE): its exit code and
  // error output tell what happened, and the write error must not crash this process.
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(input);
}

interface LineSink {
  deliver?: (line: string) => void;
  failure?: { error: unknown };
}

/**
 * The caller's onLine, stopped at its first throw: thrown inside a stream event it would crash the
 * process, so it is kept to reject the run once the command has finished.
 */
function guardedLines(onLine: ((line: string) => void) | undefined): LineSink {
  const sink: LineSink = {};
  sink.deliver = onLine && ((line) => {
    if (sink.failure) return;
    try {
      onLine(line);
    } catch (error) {
      sink.failure = { error };
    }
  });
  return sink;
}

/** Collects a stream's text and hands each line to deliver as it arrives; returns the whole text once it ended. */
function readOutput(stream: Readable | null, deliver: ((line: string) => void) | undefined): () => string {
  // No stream when the command could not be started: the result says so, with no output.
  if (!stream) return () => '';
  const chunks: string[] = [];
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    chunks.push(text);
    if (!deliver) return;
    const parts = text.split('\n');
    parts[0] = partial + parts[0];
    partial = parts.pop() ?? '';
    for (const line of parts) deliver(line.endsWith('\r') ? line.slice(0, -1) : line);
  });
  // The last line is delivered even when the command did not end it with a newline.
  stream.on('end', () => partial && deliver?.(partial));
  return () => stripFinalNewline(chunks.join(''));
}

function stripFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

const running = new Set<ChildProcess>();
let stopWatchingSignals: (() => void) | undefined;

function killRunning(): void {
  for (const child of running) child.kill();
}

/**
 * An engine must not outlive the task that started it: commands still running when this process
 * exits, or when a stop signal meant for it alone (Nx stopping a task, a `kill`) ends it without
 * its 'exit' event, are killed.
 */
function killOnExit(child: ChildProcess): void {
  if (running.size === 0) {
    process.on('exit', killRunning);
    stopWatchingSignals = whenStopped(killRunning);
  }
  running.add(child);
  const forget = () => {
    running.delete(child);
    if (running.size > 0) return;
    process.off('exit', killRunning);
    stopWatchingSignals?.();
  };
  child.on('close', forget);
  child.on('error', forget);
}

/** Whether a command exists and answers, without throwing when it is absent. */
export async function commandSucceeds(runner: CommandRunner, command: string, args: readonly string[]): Promise<boolean> {
  try {
    return (await runner.run(command, args)).exitCode === 0;
  } catch {
    return false;
  }
}

/** The last non-empty line an engine printed on failure, its error output first: usually the one that says why. */
export function lastMeaningfulLine(result: CommandResult): string {
  const lines = `${result.stdout}\n${result.stderr}`.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.at(-1) ?? `exit code ${result.exitCode}`;
}
