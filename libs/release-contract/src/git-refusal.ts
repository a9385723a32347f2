/**
 * What git said when it would not read a checkout that is there: one that belongs to another user
 * ("detected dubious ownership", since git 2.35.2: a CI job whose user is not the checkout's, or
 * sudo), or a damaged one. Each stage that reads HEAD reports it in git's words, with git's own
 * advice (the safe.directory command), rather than as a missing repository or commit. Undefined
 * when git found no repository, or a repository without a commit.
 */
export function gitRefusalOf(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim().replace(/^fatal: /, ''))
    .filter(Boolean);
  if (lines.length === 0 || /not a git repository|unknown revision|ambiguous argument/i.test(lines[0]!)) return undefined;
  return lines.join(' ');
}
