import type { MirrorOutcome } from '@changemaker/oci';
import { formatByteSize } from '../../report/byte-size';

const statusLabels: Record<MirrorOutcome['status'], string> = {
  copied: 'copied',
  current: 'current',
  'would-copy': 'would copy',
  moved: 'MOVED',
  failed: 'FAILED',
};

/** The progress line printed as each image completes. */
export function outcomeLine(outcome: MirrorOutcome, dryRun: boolean): string {
  const label = (dryRun && outcome.status === 'failed' ? 'UNCHECKED' : statusLabels[outcome.status]).padEnd(10);
  const head = `${label} ${outcome.group}: ${outcome.target}  <- ${outcome.source}`;
  if (outcome.error) return `${head}: ${outcome.error}`;
  const copy = outcome.copy;
  const detail = copy && copy.status === 'copied'
    ? `  ${formatByteSize(copy.bytesCopied)}, blobs ${copy.blobsCopied} copied / ${copy.blobsMounted} mounted / ${copy.blobsSkipped} skipped, ${copy.manifestsCopied} manifests`
    : '';
  return `${head}${detail}  (${(outcome.durationMs / 1000).toFixed(1)}s)${narrowedNote(outcome)}`;
}

/** A narrowed digest differs from upstream's by necessity; say so, with both, so nobody hunts for the difference. */
function narrowedNote(outcome: MirrorOutcome): string {
  if (!outcome.narrowedTo) return '';
  return `\n           narrowed: upstream ${outcome.upstreamDigest} → ${outcome.digest} (${outcome.narrowedTo.join(', ')} kept)`;
}

/** One row per group and a total, so a 36-image run ends with something readable. */
export function summaryTable(outcomes: MirrorOutcome[], dryRun: boolean): string {
  const columns = dryRun ? ['would copy', 'current', 'moved', 'unchecked'] : ['copied', 'current', 'moved', 'failed'];
  const statuses: Array<MirrorOutcome['status']> = dryRun ? ['would-copy', 'current', 'moved', 'failed'] : ['copied', 'current', 'moved', 'failed'];
  const groups = [...new Set(outcomes.map((o) => o.group))];
  const row = (name: string, members: MirrorOutcome[]) => [
    name,
    String(members.length),
    ...statuses.map((status) => String(members.filter((o) => o.status === status).length)),
    formatByteSize(members.reduce((sum, o) => sum + (o.copy?.bytesCopied ?? 0), 0)),
  ];
  const rows = [['group', 'images', ...columns, 'bytes'], ...groups.map((g) => row(g, outcomes.filter((o) => o.group === g))), row('total', outcomes)];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((r) => r[column].length)));
  return rows.map((r) => r.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ')).join('\n');
}

export function verdictLine(outcomes: MirrorOutcome[], registry: string, dryRun: boolean): string {
  const failed = outcomes.filter((o) => o.status === 'failed');
  const moved = outcomes.filter((o) => o.status === 'moved');
  const what = dryRun ? `dry run against ${registry}, nothing written` : `mirrored into ${registry}`;
  const counts = dryRun
    ? `${countStatus(outcomes, 'would-copy')} to copy, ${countStatus(outcomes, 'current')} current`
    : `${countStatus(outcomes, 'copied')} copied, ${countStatus(outcomes, 'current')} already current`;
  const movedNote = moved.length === 0 ? '' : `; ${moved.length} moved upstream and ${moved.length === 1 ? 'was' : 'were'} not copied (${moved.map((o) => o.pin).join(', ')}): check them, then --update=${moved.map((o) => o.pin).join(',')}`;
  if (failed.length === 0) return `${what}: ${countOf(outcomes.length, 'image')}, ${counts}${movedNote}`;
  return `${what}: ${failed.length} of ${countOf(outcomes.length, 'image')} ${dryRun ? 'could not be checked' : 'failed'} (${counts}): ${failed.map((o) => o.target).join(', ')}${movedNote}`;
}

/** Between image lines, a big layer can take minutes: say every so often that bytes are moving. */
export class ProgressHeartbeat {
  private done = 0;
  private bytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly total: number, print: (line: string) => void, intervalMs = 15_000) {
    this.timer = setInterval(() => print(`... ${this.done} of ${countOf(this.total, 'image')} done, ${formatByteSize(this.bytes)} copied so far`), intervalMs);
    this.timer.unref();
  }

  imageDone(): void {
    this.done++;
  }

  bytesCopied(bytes: number): void {
    this.bytes += bytes;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export function countOf(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function countStatus(outcomes: MirrorOutcome[], status: MirrorOutcome['status']): number {
  return outcomes.filter((o) => o.status === status).length;
}
