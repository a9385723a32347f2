import { execa } from 'execa';

export interface CommandOptions {
  /** Written to the command's stdin: the only way a secret is handed to an engine. */
  input?: string;
  env?: Record<string, string>;
  /** Each line the command prints, as it prints it. */
  onLine?: (line: string) => void;
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
    run: (command, args, options = {}) => runProcess(command, args, { ...options, env: { ...env, ...options.env } as Record<string, string> }),
  };
}

async function runProcess(command: string, args: readonly string[], options: CommandOptions): Promise<CommandResult> {
  const child = execa(command, args, {
    input: options.input ?? '',
    env: options.env,
    extendEnv: false,
    reject: false,
    all: true,
    lines: false,
  });
  if (options.onLine) {
    for await (const line of child.iterable({ from: 'all' })) options.onLine(String(line));
  }
  const result = await child;
  if (result.failed && result.exitCode === undefined) {
    return { exitCode: 127, stdout: '', stderr: result.shortMessage ?? `${command}: not found` };
  }
  return { exitCode: result.exitCode ?? 1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
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
