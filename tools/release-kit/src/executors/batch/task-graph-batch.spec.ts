import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { batchConcurrencyOf, runTaskGraphBatch, type BatchTaskResult } from './task-graph-batch';

/** A batch of image tasks, `dependencies` naming for each the tasks it waits on. */
function batchOf(dependencies: Record<string, string[]>): TaskGraph {
  const tasks = Object.fromEntries(
    Object.keys(dependencies).map((project) => [`${project}:docker-push`, { id: `${project}:docker-push`, target: { project, target: 'docker-push' }, overrides: {}, outputs: [], parallelism: true }]),
  );
  return {
    roots: Object.keys(dependencies).filter((project) => dependencies[project]!.length === 0).map((project) => `${project}:docker-push`),
    tasks,
    dependencies: Object.fromEntries(Object.entries(dependencies).map(([project, on]) => [`${project}:docker-push`, on.map((other) => `${other}:docker-push`)])),
    continuousDependencies: {},
  } as unknown as TaskGraph;
}

/** A task that finishes only when the test says so, recording when it started. */
class ControlledTasks {
  readonly started: string[] = [];
  private readonly finishers = new Map<string, (success: boolean) => void>();
  running = 0;
  mostAtOnce = 0;

  run = (taskId: string, output: { log(line: string): void; progress(line: string): void }): Promise<boolean> => {
    this.started.push(taskId);
    this.running += 1;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    output.progress(`building ${taskId}`);
    output.log(`${taskId}: pushed`);
    return new Promise((resolve) => this.finishers.set(taskId, (success) => {
      this.running -= 1;
      resolve(success);
    }));
  };

  async finish(taskId: string, success = true): Promise<void> {
    while (!this.finishers.has(taskId)) await new Promise((resolve) => setImmediate(resolve));
    this.finishers.get(taskId)!(success);
  }
}

async function collect(results: AsyncIterableIterator<BatchTaskResult>): Promise<BatchTaskResult[]> {
  const all: BatchTaskResult[] = [];
  for await (const result of results) all.push(result);
  return all;
}

describe('runTaskGraphBatch', () => {
  let stdout: jest.SpyInstance;
  beforeEach(() => {
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => stdout.mockRestore());

  it('runs at most `concurrency` tasks at once and yields each as it completes, not in graph order', async () => {
    const tasks = new ControlledTasks();
    const results = collect(runTaskGraphBatch(batchOf({ api: [], admin: [], nginx: [] }), 2, tasks.run));
    await tasks.finish('admin:docker-push');
    await tasks.finish('nginx:docker-push');
    await tasks.finish('api:docker-push');
    const order = (await results).map((result) => result.task);

    expect(tasks.mostAtOnce).toBe(2);
    expect(tasks.started).toEqual(['api:docker-push', 'admin:docker-push', 'nginx:docker-push']);
    expect(order).toEqual(['admin:docker-push', 'nginx:docker-push', 'api:docker-push']);
  });

  it("puts each task's outcome in its own terminal output and its progress live on stdout, prefixed with its project", async () => {
    const tasks = new ControlledTasks();
    const results = collect(runTaskGraphBatch(batchOf({ api: [], admin: [] }), 3, tasks.run));
    await tasks.finish('api:docker-push');
    await tasks.finish('admin:docker-push');

    const byTask = new Map((await results).map((result) => [result.task, result.result]));
    expect(byTask.get('api:docker-push')).toMatchObject({ success: true, status: 'success', terminalOutput: 'api:docker-push: pushed\n' });
    expect(byTask.get('admin:docker-push')?.terminalOutput).toBe('admin:docker-push: pushed\n');
    expect(stdout.mock.calls.map(([text]) => text)).toEqual(expect.arrayContaining(['api: building api:docker-push\n', 'admin: building admin:docker-push\n']));
  });

  it('starts a task only after the batch tasks it depends on, and skips it without running it when one failed', async () => {
    const tasks = new ControlledTasks();
    const results = collect(runTaskGraphBatch(batchOf({ base: [], api: ['base'], admin: [], nginx: ['admin'] }), 4, tasks.run));
    await tasks.finish('base:docker-push', false);
    await tasks.finish('admin:docker-push');
    await tasks.finish('nginx:docker-push');
    const byTask = new Map((await results).map((result) => [result.task, result.result]));

    expect(tasks.started).not.toContain('api:docker-push');
    expect(tasks.started.indexOf('nginx:docker-push')).toBeGreaterThan(tasks.started.indexOf('admin:docker-push'));
    expect(byTask.get('base:docker-push')).toMatchObject({ success: false, status: 'failure' });
    expect(byTask.get('api:docker-push')).toMatchObject({ success: false, status: 'skipped', terminalOutput: 'api:docker-push was not run: base:docker-push failed\n' });
    expect(byTask.get('nginx:docker-push')).toMatchObject({ success: true, status: 'success' });
  });

  it('reports a task that throws as failed, with the reason, and still runs the others', async () => {
    const run = async (taskId: string) => {
      if (taskId === 'api:docker-push') throw new Error('engine crashed');
      return true;
    };
    const byTask = new Map((await collect(runTaskGraphBatch(batchOf({ api: [], admin: [] }), 1, run))).map((result) => [result.task, result.result]));

    expect(byTask.get('api:docker-push')).toMatchObject({ success: false, status: 'failure', terminalOutput: 'api:docker-push failed: engine crashed\n' });
    expect(byTask.get('admin:docker-push')).toMatchObject({ success: true, status: 'success' });
  });
});

describe('batchConcurrencyOf', () => {
  const context = (parallel?: number) => ({ nxJsonConfiguration: parallel === undefined ? {} : { parallel } }) as unknown as ExecutorContext;

  it("follows Nx's --parallel: NX_PARALLEL first, then nx.json, else Nx's default of 3", () => {
    expect(batchConcurrencyOf(context(5), { NX_PARALLEL: '2' })).toBe(2);
    expect(batchConcurrencyOf(context(5), {})).toBe(5);
    expect(batchConcurrencyOf(context(), {})).toBe(3);
    expect(batchConcurrencyOf(context(), { NX_PARALLEL: 'many' })).toBe(3);
  });
});
