import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { batchConcurrencyOf, runTaskGraphBatch, type BatchTaskResult } from '../batch/task-graph-batch';
import { publishImage } from './executor';
import type { DockerBuildPushOptions } from './schema';

/**
 * docker-build-push for every image task Nx has ready at once, in one process (executors.json
 * `preferBatch`): a release or a CI push of N images pays Nx's start-up of a task process once
 * instead of N times. Each task is the same publishImage the single executor runs.
 */
export default function runImageTasks(taskGraph: TaskGraph, inputs: Record<string, DockerBuildPushOptions>, _overrides: DockerBuildPushOptions, context: ExecutorContext): AsyncIterableIterator<BatchTaskResult> {
  return runTaskGraphBatch(taskGraph, batchConcurrencyOf(context, process.env), (taskId, output) => {
    const { target } = taskGraph.tasks[taskId]!;
    const taskContext: ExecutorContext = { ...context, projectName: target.project, targetName: target.target, configurationName: target.configuration };
    return publishImage(inputs[taskId]!, taskContext, output);
  });
}
