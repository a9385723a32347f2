import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import type { TaskOutput } from '../task-output';

/** What Nx expects a batch to yield for each of its tasks (nx's BatchExecutorTaskResult). */
export interface BatchTaskResult {
  task: string;
  result: { success: boolean; status: 'success' | 'failure' | 'skipped'; terminalOutput: string; startTime?: number; endTime?: number };
}

/** Runs one task of the batch, writing to its own output; false when it failed with a reason already written. */
export type BatchTask = (taskId: string, output: TaskOutput) => Promise<boolean>;

/**
 * Runs the tasks of an Nx batch in one process, at most `concurrency` at a time, each after the
 * batch tasks it depends on, yielding each result as soon as it is known so Nx reports (and
 * unblocks the tasks after) it without waiting for the whole batch. A task whose dependency failed
 * is skipped, not run. A task's progress goes live to stdout, each line prefixed with its project
 * (tasks run side by side); its outcome goes into its terminal output, which Nx prints once, when
 * the task completes.
 */
export async function* runTaskGraphBatch(taskGraph: TaskGraph, concurrency: number, runTask: BatchTask): AsyncIterableIterator<BatchTaskResult> {
  const waiting = new Set(Object.keys(taskGraph.tasks));
  const failed = new Set<string>();
  const done = new Set<string>();
  const running = new Map<string, Promise<BatchTaskResult>>();
  const dependenciesInBatch = (taskId: string) => (taskGraph.dependencies[taskId] ?? []).filter((id) => id in taskGraph.tasks);

  while (waiting.size > 0 || running.size > 0) {
    for (const taskId of [...waiting]) {
      const dependencies = dependenciesInBatch(taskId);
      if (dependencies.some((id) => failed.has(id))) {
        waiting.delete(taskId);
        failed.add(taskId);
        done.add(taskId);
        yield skipped(taskId, dependencies.filter((id) => failed.has(id)));
        continue;
      }
      if (running.size >= concurrency || !dependencies.every((id) => done.has(id))) continue;
      waiting.delete(taskId);
      running.set(taskId, runOne(taskId, taskGraph.tasks[taskId]?.target.project ?? taskId, runTask));
    }
    if (running.size === 0) {
      if (waiting.size === 0) break;
      throw new Error(`the batch's tasks wait on each other: ${[...waiting].join(', ')}`);
    }
    const finished = await Promise.race(running.values());
    running.delete(finished.task);
    done.add(finished.task);
    if (finished.result.status !== 'success') failed.add(finished.task);
    yield finished;
  }
}

/** How many tasks a batch runs at once: Nx's own `--parallel` setting (NX_PARALLEL, nx.json `parallel`), else Nx's default of 3. */
export function batchConcurrencyOf(context: ExecutorContext, env: NodeJS.ProcessEnv): number {
  const configured = Number(env['NX_PARALLEL'] ?? context.nxJsonConfiguration?.parallel);
  return Number.isInteger(configured) && configured > 0 ? configured : 3;
}

async function runOne(taskId: string, project: string, runTask: BatchTask): Promise<BatchTaskResult> {
  const lines: string[] = [];
  const output: TaskOutput = {
    progress: (line) => process.stdout.write(`${project}: ${line}\n`),
    log: (line) => lines.push(line),
    error: (line) => lines.push(line),
  };
  const startTime = Date.now();
  let success = false;
  try {
    success = await runTask(taskId, output);
  } catch (error) {
    output.error(`${taskId} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const status = success ? 'success' : 'failure';
  return { task: taskId, result: { success, status, terminalOutput: `${lines.join('\n')}\n`, startTime, endTime: Date.now() } };
}

function skipped(taskId: string, failedDependencies: readonly string[]): BatchTaskResult {
  const terminalOutput = `${taskId} was not run: ${failedDependencies.join(', ')} failed\n`;
  return { task: taskId, result: { success: false, status: 'skipped', terminalOutput } };
}
