import type { StageOutcome } from '@changemaker/release-flow';

/** A stage that only reads says what it found, or could not find out, in its lines: "done", not "checked". */
const statusMark: Record<StageOutcome['status'], string> = { ran: 'done', running: 'running', planned: 'would run', skipped: 'skipped' };

/** `[2/5] gitea: done`, then the stage's own lines, indented: the progress lines of a staged executor. */
export function describeOutcome(outcome: StageOutcome, index: number, total: number): string {
  return [`[${index + 1}/${total}] ${outcome.stage}: ${statusMark[outcome.status]}`, ...outcome.lines.filter(Boolean).map((line) => `    ${line}`)].join('\n');
}
