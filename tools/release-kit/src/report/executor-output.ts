import type { RetryNotice } from '@changemaker/gitea';

export type PrintLine = (line: string, stream?: 'out' | 'err') => void;

/**
 * How an executor that holds the Gitea token prints: every line passes through here, so the token
 * cannot reach a log even by accident. With --json, stdout is kept for the report: lines go to
 * stderr unless sent to 'out'.
 */
export function tokenMaskingPrinter(token: string | undefined, json: boolean | undefined): PrintLine {
  return (line, stream = json ? 'err' : 'out') => (stream === 'out' ? console.log : console.error)(token ? line.split(token).join('***') : line);
}

/** The progress line a Gitea call's retry prints. */
export function retryLine(notice: RetryNotice): string {
  return `  retrying ${notice.method} ${notice.path} (attempt ${notice.attempt}/${notice.attempts}) in ${Math.round(notice.delayMs)} ms: ${notice.reason}`;
}
