import { gitCommand, quotedSubject } from './git-command';

/**
 * Conventional Commits makes a `BREAKING-CHANGE:` footer a synonym of `BREAKING CHANGE:`. nx release
 * reads only the second (and a `!` after the type): a commit marked the first way gives a minor or
 * patch release where a major was meant, and the notes no breaking change. Here it is found before
 * the version is written, and read as Nx reads the other in the notes.
 */

/** A commit whose breaking change nx release does not see. */
export interface UnreadBreakingChange {
  hash: string;
  subject: string;
}

const hyphenFooter = /^BREAKING-CHANGE:/m;
const conventionalHeader = /^[a-z]+(\([^)]*\))?(!)?: \S/i;

/** A conventional commit that says it breaks something only in the footer nx release does not read. */
export function breaksUnreadByNx(subject: string, body: string): boolean {
  const header = conventionalHeader.exec(subject);
  return header !== null && header[2] !== '!' && saysBreakingOnlyAsNxDoesNotRead(body);
}

/** A body whose only breaking-change footer is `BREAKING-CHANGE:`, which Nx does not read. */
export function saysBreakingOnlyAsNxDoesNotRead(body: string): boolean {
  return !body.includes('BREAKING CHANGE:') && hyphenFooter.test(body);
}

/** The message with its `BREAKING-CHANGE:` footer written as nx release reads one. */
export function withBreakingChangeFooterNxReads(message: string): string {
  return message.replace(/^BREAKING-CHANGE:/gm, 'BREAKING CHANGE:');
}

/** The commits after `since` (a release tag; every commit of HEAD when there is none) that breaksUnreadByNx. */
export async function breakingChangesUnreadByNx(root: string, since: string | undefined): Promise<UnreadBreakingChange[]> {
  const tagged = since !== undefined && (await gitCommand(root, ['rev-parse', '-q', '--verify', `refs/tags/${since}^{commit}`])).ok;
  const log = await gitCommand(root, ['log', '--format=%h%x1f%s%x1f%b%x1e', tagged ? `${since}..HEAD` : 'HEAD']);
  if (!log.ok) return [];
  return log.stdout
    .split('\x1e')
    .map((record) => record.replace(/^\n/, '').split('\x1f'))
    .filter(([hash, subject = '', body = '']) => hash && breaksUnreadByNx(subject, body))
    .map(([hash = '', subject = '']) => ({ hash, subject }));
}

/**
 * The one-line refusal for a release whose version the commits gave (`next`; none when they gave
 * none) while one of them marks a breaking change nx release did not read.
 */
export function unreadBreakingChangeProblem(commits: readonly UnreadBreakingChange[], next: string | undefined): string | undefined {
  const [first] = commits;
  if (!first) return undefined;
  const more = commits.length > 1 ? ` (and ${commits.length - 1} more)` : '';
  const commit = `commit ${first.hash} (${quotedSubject(first.subject)})${more} marks a breaking change with a "BREAKING-CHANGE:" footer, which nx release does not read`;
  const given = next ? `the commits give ${next}, not a major release` : 'the commits give no version';
  const otherwise = next ? `, or, if it breaks nothing of the product, npx nx release ${next}` : ', or another version if it breaks nothing of the product';
  return `${commit}: ${given}; to release it as the major it is, npx nx release major${otherwise}`;
}
