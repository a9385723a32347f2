import { readFile } from 'node:fs/promises';

/** CPU time (user + system) of every child process this one has waited for, grandchildren included. */
export async function finishedChildrenCpuMs(): Promise<number> {
  const fieldsAfterCommand = (await readFile('/proc/self/stat', 'utf8')).split(') ')[1].split(' ');
  const [childrenUserTicks, childrenSystemTicks] = fieldsAfterCommand.slice(13, 15).map(Number);
  return (childrenUserTicks + childrenSystemTicks) * 10;
}

/** Wall time and children's CPU time of one run. */
export async function measured<T>(run: () => Promise<T>): Promise<{ result: T; ms: number; cpuMs: number }> {
  const cpuBefore = await finishedChildrenCpuMs();
  const started = process.hrtime.bigint();
  const result = await run();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { result, ms, cpuMs: (await finishedChildrenCpuMs()) - cpuBefore };
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
