import { InvalidTagError, InvalidTagPatternError } from './errors';
import { expandTagPattern, expandTagPatterns, validateTagPattern } from './tag-pattern';

const sha = '0123456789abcdef0123456789abcdef01234567';

describe('tag patterns', () => {
  it('expands every placeholder', () => {
    const values = { sha, branch: 'feature/new-api', version: '2.3.0' };
    expect(expandTagPattern('{sha}', values)).toBe(sha);
    expect(expandTagPattern('{shortSha}', values)).toBe('0123456');
    expect(expandTagPattern('v{version}', values)).toBe('v2.3.0');
    expect(expandTagPattern('{branch}-{shortSha}', values)).toBe('feature-new-api-0123456');
    expect(expandTagPattern('latest', values)).toBe('latest');
  });

  it('drops repeated tags but keeps their order', () => {
    expect(expandTagPatterns(['{sha}', 'latest', 'latest'], { sha })).toEqual([sha, 'latest']);
  });

  it('rejects unknown placeholders and unbalanced braces, naming the pattern', () => {
    expect(() => validateTagPattern('{commit}')).toThrow(InvalidTagPatternError);
    expect(() => validateTagPattern('{commit}')).toThrow(/"\{commit\}".*unknown placeholder \{commit\}/);
    expect(() => validateTagPattern('v{version')).toThrow(/not closed/);
    expect(() => validateTagPattern('')).toThrow(/empty/);
    expect(() => expandTagPatterns([], { sha })).toThrow(/no tags/);
  });

  it('rejects a tag the grammar forbids, naming what the pattern produced', () => {
    expect(() => expandTagPattern('release:{shortSha}', { sha })).toThrow(InvalidTagError);
    expect(() => expandTagPattern('release:{shortSha}', { sha })).toThrow(/produced "release:0123456"/);
    expect(() => expandTagPattern('-{shortSha}', { sha })).toThrow(InvalidTagError);
    expect(() => expandTagPattern(`${'x'.repeat(100)}{sha}`, { sha })).toThrow(InvalidTagError);
  });

  it('asks for a version when the pattern needs one and none is known', () => {
    expect(() => expandTagPattern('v{version}', { sha })).toThrow(/no version is known: pass --image-version=1\.2\.3 \(not --version, which Nx answers with its own version, building nothing\)/);
  });

  it('asks for a branch on a detached HEAD', () => {
    expect(() => expandTagPattern('{branch}', { sha })).toThrow(/detached/);
  });
});
