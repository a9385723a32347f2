/**
 * Where a task writes: the console when Nx runs it alone; in a batch, progress goes live
 * (prefixed with the project) and the outcome into the task's own output, printed as it completes.
 */
export interface TaskOutput {
  /** What the engine and the build are doing now. */
  progress(line: string): void;
  /** The task's outcome: its summary, its --json line. */
  log(line: string): void;
  error(line: string): void;
}
