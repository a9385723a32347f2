/** Timing helpers the benches share: wall time, and the CPU time of the children they ran. */
import { readFile } from 'node:fs/promises';

/**
 * User and system time of every child this process has waited for, their own waited-for children
 * included (Linux /proc/self/stat cutime and cstime, in clock ticks of 1/100 s).
 */
export async function finishedChildrenCpuMs(): Promise<number> {
  const fieldsAfterCommand = (await readFile('/proc/self/stat', 'utf8')).split(') ')[1].split(' ');
  const [childrenUserTicks, childrenSystemTicks] = fieldsAfterCommand.slice(13, 15).map(Number);
  return (childrenUserTicks + childrenSystemTicks) * 10;
}

export async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Wall time and the CPU time of the children it ran, of one measured run. */
export interface Timing {
  ms: number;
  cpuMs: number;
}

/** Wall time and children's CPU time of one run, with its result. */
export async function measured<T>(run: () => Promise<T>): Promise<Timing & { result: T }> {
  const cpuBefore = await finishedChildrenCpuMs();
  const started = process.hrtime.bigint();
  const result = await run();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { result, ms, cpuMs: (await finishedChildrenCpuMs()) - cpuBefore };
}
