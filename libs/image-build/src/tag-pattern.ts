import { InvalidTagError, InvalidTagPatternError } from './errors';

/** What a tag pattern's placeholders stand for in one build. */
export interface TagValues {
  sha: string;
  branch?: string;
  version?: string;
}

const placeholders = ['sha', 'shortSha', 'version', 'branch'] as const;
type Placeholder = (typeof placeholders)[number];

// The distribution spec's tag grammar.
const validTag = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const placeholderPattern = /\{([^{}]*)\}/g;

/** Rejects a pattern that could never expand, before anything is built. */
export function validateTagPattern(pattern: string): void {
  if (pattern.trim() === '') throw new InvalidTagPatternError(pattern, 'it is empty');
  const unbalanced = pattern.replace(placeholderPattern, '');
  if (/[{}]/.test(unbalanced)) throw new InvalidTagPatternError(pattern, 'a "{" or "}" is not closed');
  for (const [, name] of pattern.matchAll(placeholderPattern)) {
    if (!isPlaceholder(name)) {
      throw new InvalidTagPatternError(pattern, `unknown placeholder {${name}}; known: ${placeholders.map((p) => `{${p}}`).join(', ')}`);
    }
  }
}

export function expandTagPattern(pattern: string, values: TagValues): string {
  validateTagPattern(pattern);
  const tag = pattern.replace(placeholderPattern, (_, name: Placeholder) => valueOf(name, values, pattern));
  if (!validTag.test(tag)) throw new InvalidTagError(tag, pattern);
  return tag;
}

export function expandTagPatterns(patterns: readonly string[], values: TagValues): string[] {
  if (patterns.length === 0) throw new InvalidTagPatternError('', 'no tags were given');
  return [...new Set(patterns.map((pattern) => expandTagPattern(pattern, values)))];
}

export function isValidTag(tag: string): boolean {
  return validTag.test(tag);
}

function isPlaceholder(name: string): name is Placeholder {
  return (placeholders as readonly string[]).includes(name);
}

function valueOf(name: Placeholder, values: TagValues, pattern: string): string {
  switch (name) {
    case 'sha':
      return values.sha;
    case 'shortSha':
      return values.sha.slice(0, 7);
    case 'version':
      if (!values.version) {
        throw new InvalidTagPatternError(pattern, 'it uses {version} but no version is known: pass --image-version=1.2.3 (not --version, which Nx answers with its own version, building nothing), or run it from nx release publish');
      }
      return values.version;
    case 'branch':
      if (!values.branch) {
        throw new InvalidTagPatternError(pattern, 'it uses {branch} but HEAD is not on a branch (detached): drop {branch} or check out a branch');
      }
      return sanitizeBranch(values.branch);
  }
}

/** Branch names may hold characters tags may not (feature/x): those become "-". */
function sanitizeBranch(branch: string): string {
  return branch.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[.-]+/, '');
}
