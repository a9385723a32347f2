/** A file glob as release file lists write them: `*` and `?` stay inside one directory, `**` crosses them. */
export class GlobPattern {
  private readonly regex: RegExp;

  constructor(readonly pattern: string) {
    this.regex = new RegExp(`^${globToRegexSource(pattern)}$`);
  }

  static isGlob(pattern: string): boolean {
    return /[*?]/.test(pattern);
  }

  matches(path: string): boolean {
    return this.regex.test(path);
  }

  /** The directories before the first wildcard: the only part of the tree worth walking. */
  get base(): string {
    const segments = this.pattern.split('/');
    const firstWild = segments.findIndex((segment) => GlobPattern.isGlob(segment));
    return segments.slice(0, firstWild === -1 ? segments.length : firstWild).join('/');
  }
}

function globToRegexSource(pattern: string): string {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (pattern.startsWith('**/', i)) {
      source += '(?:.*/)?';
      i += 2;
    } else if (pattern.startsWith('**', i)) {
      source += '.*';
      i += 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return source;
}
