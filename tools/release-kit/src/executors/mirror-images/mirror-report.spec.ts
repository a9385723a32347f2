import type { MirrorOutcome } from '@changemaker/oci';
import { ProgressHeartbeat, summaryTable } from './mirror-report';

const outcome = (group: string, status: MirrorOutcome['status'], bytesCopied = 0): MirrorOutcome => ({
  group,
  source: `hub/${group}:1`,
  target: `registry/${group}:1`,
  pin: `${group}:1`,
  status,
  durationMs: 10,
  ...(bytesCopied ? { copy: { bytesCopied } as MirrorOutcome['copy'] } : {}),
});

describe('summaryTable', () => {
  it('after a real run: a row per group and the total, with the bytes copied', () => {
    const table = summaryTable([outcome('core', 'copied', 2048), outcome('core', 'current'), outcome('monitoring', 'copied', 1024)], false);
    expect(table.split('\n').map((line) => line.split(/\s+/))).toEqual([
      ['group', 'images', 'copied', 'replaced', 'current', 'moved', 'occupied', 'failed', 'bytes'],
      ['core', '2', '1', '0', '1', '0', '0', '0', '2.0', 'KiB'],
      ['monitoring', '1', '1', '0', '0', '0', '0', '0', '1.0', 'KiB'],
      ['total', '3', '2', '0', '1', '0', '0', '0', '3.0', 'KiB'],
    ]);
  });

  it('after a dry run: no bytes column, which would say 0 B beside the images it would copy', () => {
    const table = summaryTable([outcome('core', 'would-copy'), outcome('core', 'current')], true);
    expect(table.split('\n').map((line) => line.split(/\s+/))).toEqual([
      ['group', 'images', 'would', 'copy', 'would', 'replace', 'current', 'moved', 'occupied', 'unchecked'],
      ['core', '2', '1', '0', '1', '0', '0', '0'],
      ['total', '2', '1', '0', '1', '0', '0', '0'],
    ]);
  });
});


describe('ProgressHeartbeat', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('prints images done and bytes copied every interval until stopped', () => {
    const lines: string[] = [];
    const heartbeat = new ProgressHeartbeat(3, (line) => lines.push(line), 1000);
    heartbeat.bytesCopied(1_500_000);
    jest.advanceTimersByTime(1000);
    heartbeat.imageDone();
    heartbeat.bytesCopied(500_000);
    jest.advanceTimersByTime(1000);
    heartbeat.stop();
    jest.advanceTimersByTime(5000);
    expect(lines).toEqual(['... 0 of 3 images done, 1.4 MiB copied so far', '... 1 of 3 images done, 1.9 MiB copied so far']);
  });
});
