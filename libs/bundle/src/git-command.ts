import { spawn } from 'node:child_process';

/** git failed: `line` is git's own first line of complaint (or why it could not start). */
export class GitCommandError extends Error {
  constructor(
    readonly line: string,
    /** git found no repository here or above: no checkout at all, as opposed to one it refuses or cannot read. */
    readonly notARepository: boolean,
  ) {
    super(line);
    this.name = 'GitCommandError';
  }
}

export interface GitCommandOptions {
  input?: string;
  /** Exit codes that are answers, not failures (check-ignore exits 1 when nothing is ignored). */
  exitCodes?: readonly number[];
}

/**
 * Runs git in `cwd` and returns its stdout. Messages in English (LC_ALL=C), so that "not a git
 * repository" can be told apart from a repository git refuses (dubious ownership, corruption).
 */
export function runGit(cwd: string, args: readonly string[], options: GitCommandOptions = {}): Promise<Buffer> {
  const exitCodes = options.exitCodes ?? [0];
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: { ...process.env, LC_ALL: 'C', LANGUAGE: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // git may exit before reading its input (outside a repository): its exit code says why, not the broken pipe.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    child.on('error', (error) => reject(new GitCommandError(`git could not be run: ${error.message}`, false)));
    child.on('close', (code, signal) => {
      if (code !== null && exitCodes.includes(code)) return resolve(Buffer.concat(stdout));
      const complaint = Buffer.concat(stderr).toString('utf8');
      const line = complaint.split('\n').map((text) => text.trim()).find((text) => text !== '');
      reject(new GitCommandError(line ?? `git ${args[0]} ${signal ? `was killed by ${signal}` : `exited with ${code}`}`, /not a git repository/i.test(complaint)));
    });
  });
}
