import type { MirrorOutcome } from '@changemaker/oci';
import { formatByteSize } from '../../report/byte-size';

type Status = MirrorOutcome['status'];

const statusLabels: Record<Status, string> = {
  copied: 'copied',
  replaced: 'replaced',
  current: 'current',
  'would-copy': 'would copy',
  'would-replace': 'would replace',
  moved: 'MOVED',
  occupied: 'OCCUPIED',
  failed: 'FAILED',
};
const labelWidth = Math.max(...Object.values(statusLabels).map((label) => label.length));

/** The statuses a run reports, in the order of the summary's columns. */
const reportedStatuses = (dryRun: boolean): Status[] =>
  dryRun ? ['would-copy', 'would-replace', 'current', 'moved', 'occupied', 'failed'] : ['copied', 'replaced', 'current', 'moved', 'occupied', 'failed'];

const label = (status: Status, dryRun: boolean) => (dryRun && status === 'failed' ? 'UNCHECKED' : statusLabels[status]);

/** The progress line printed as each image completes. */
export function outcomeLine(outcome: MirrorOutcome, dryRun: boolean): string {
  const head = `${label(outcome.status, dryRun).padEnd(labelWidth)} ${outcome.group}: ${outcome.target}${replacementNote(outcome)}  <- ${outcome.source}`;
  if (outcome.error) return `${head}: ${outcome.error}`;
  const copy = outcome.copy;
  const detail = copy && copy.status === 'copied'
    ? `  ${formatByteSize(copy.bytesCopied)}, blobs ${copy.blobsCopied} copied / ${copy.blobsMounted} mounted / ${copy.blobsSkipped} skipped, ${copy.manifestsCopied} manifests`
    : '';
  return `${head}${detail}  (${(outcome.durationMs / 1000).toFixed(1)}s)${narrowedNote(outcome)}`;
}

/** What servers pulling a replaced tag got before and get now (or would): both digests, in full. */
function replacementNote(outcome: MirrorOutcome): string {
  if (outcome.status === 'replaced') return ` (was ${outcome.existingDigest}, now ${outcome.digest})`;
  if (outcome.status === 'would-replace') return ` (is ${outcome.existingDigest}, would be ${outcome.digest})`;
  return '';
}

/** A narrowed digest differs from upstream's by necessity; say so, with both, so nobody hunts for the difference. */
function narrowedNote(outcome: MirrorOutcome): string {
  if (!outcome.narrowedTo) return '';
  return `\n${' '.repeat(labelWidth + 1)}narrowed: upstream ${outcome.upstreamDigest} → ${outcome.digest} (${outcome.narrowedTo.join(', ')} kept)`;
}

/**
 * One row per group and a total, so a 36-image run ends with something readable. The bytes copied
 * only after a real run: a dry run copies none, and a column of `0 B` beside 36 images to copy
 * would read as nothing to transfer.
 */
export function summaryTable(outcomes: MirrorOutcome[], dryRun: boolean): string {
  const statuses = reportedStatuses(dryRun);
  const columns = statuses.map((status) => label(status, dryRun).toLowerCase());
  const groups = [...new Set(outcomes.map((o) => o.group))];
  const bytesCopied = (members: MirrorOutcome[]) => (dryRun ? [] : [formatByteSize(members.reduce((sum, o) => sum + (o.copy?.bytesCopied ?? 0), 0))]);
  const row = (name: string, members: MirrorOutcome[]) => [name, String(members.length), ...statuses.map((status) => String(countStatus(members, status))), ...bytesCopied(members)];
  const rows = [['group', 'images', ...columns, ...(dryRun ? [] : ['bytes'])], ...groups.map((g) => row(g, outcomes.filter((o) => o.group === g))), row('total', outcomes)];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((r) => r[column].length)));
  return rows.map((r) => r.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ')).join('\n');
}

/** Per status the run reports, how many images ended so: the summary's total row, and `counts` in --json. */
export function statusCounts(outcomes: MirrorOutcome[], dryRun: boolean): Partial<Record<Status, number>> {
  return Object.fromEntries(reportedStatuses(dryRun).map((status) => [status, countStatus(outcomes, status)]));
}

export function verdictLine(outcomes: MirrorOutcome[], registry: string, dryRun: boolean): string {
  const failed = outcomes.filter((o) => o.status === 'failed');
  const what = dryRun ? `dry run against ${registry}, nothing written` : `mirrored into ${registry}`;
  const counts = dryRun
    ? `${countStatus(outcomes, 'would-copy')} to copy, ${countStatus(outcomes, 'would-replace')} to replace, ${countStatus(outcomes, 'current')} current`
    : `${countStatus(outcomes, 'copied')} copied, ${countStatus(outcomes, 'replaced')} replaced, ${countStatus(outcomes, 'current')} already current`;
  const refused = refusedNote(outcomes, 'moved', 'moved upstream', 'copied', '--update') + refusedNote(outcomes, 'occupied', 'held an image the lock does not record', 'replaced', '--replace');
  if (failed.length === 0) return `${what}: ${countOf(outcomes.length, 'image')}, ${counts}${refused}`;
  return `${what}: ${failed.length} of ${countOf(outcomes.length, 'image')} ${dryRun ? 'could not be checked' : 'failed'} (${counts}): ${failed.map((o) => o.target).join(', ')}${refused}`;
}

/** Pins refused until an option names them: which, and the option that accepts them. */
function refusedNote(outcomes: MirrorOutcome[], status: Status, why: string, notDone: string, option: string): string {
  const pins = outcomes.filter((o) => o.status === status).map((o) => o.pin);
  if (pins.length === 0) return '';
  return `; ${pins.length} ${why} and ${pins.length === 1 ? 'was' : 'were'} not ${notDone} (${pins.join(', ')}): check them, then ${option}=${pins.join(',')}`;
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

function countStatus(outcomes: MirrorOutcome[], status: Status): number {
  return outcomes.filter((o) => o.status === status).length;
}
