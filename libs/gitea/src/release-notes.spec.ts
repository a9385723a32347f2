import { changelogSection, generatedNotes } from './release-notes';

const changelog = [
  '# Changelog',
  '',
  '## [2.10.0] - 2026-11-25',
  '',
  '- newest',
  '',
  '## v2.9.7',
  '',
  '### Fixes',
  '- the fix',
  '',
  '## 2.9.70 (2026-01-01)',
  '- not 2.9.7',
  '',
  '## 2.9.6',
  '',
].join('\n');

describe('changelogSection', () => {
  it('finds bracketed, v-prefixed and bare headings, up to the next version', () => {
    expect(changelogSection(changelog, 'v2.10.0')).toBe('- newest');
    expect(changelogSection(changelog, '2.9.7')).toBe('### Fixes\n- the fix');
    expect(changelogSection(changelog, 'v2.9.70')).toBe('- not 2.9.7');
  });

  it("ends the notes with the compare link an nx release heading gives, since the heading is left out", () => {
    const released = '# Changelog\n\n## [1.1.0](http://gitea.local/admin/cm/compare/v1.0.0...v1.1.0) (2026-11-30)\n\n### 🚀 Features\n\n- a feature\n\n## 1.0.0 (2026-11-01)\n\n- first\n';
    expect(changelogSection(released, 'v1.1.0')).toBe('### 🚀 Features\n\n- a feature\n\nAll changes: [v1.0.0...v1.1.0](http://gitea.local/admin/cm/compare/v1.0.0...v1.1.0)');
    expect(changelogSection(released, 'v1.0.0')).toBe('- first');
  });

  it('has nothing for a missing or empty section', () => {
    expect(changelogSection(changelog, '3.0.0')).toBeUndefined();
    expect(changelogSection(changelog, '2.9.6')).toBeUndefined();
  });
});

describe('generatedNotes', () => {
  it('lists the commit, the images and each file with its sha256', () => {
    const notes = generatedNotes('v1.0.0', [{ name: 'a.tar.gz', sha256: 'f'.repeat(64) }], {
      commit: 'abc123',
      images: { api: 'reg/changemaker-api:v1.0.0' },
    });
    expect(notes).toContain('Built from commit abc123.');
    expect(notes).toContain('- api: reg/changemaker-api:v1.0.0');
    expect(notes).toContain(`- a.tar.gz: ${'f'.repeat(64)}`);
  });

  it('reads the {service, reference} image list package-release writes', () => {
    const notes = generatedNotes('v1.0.0', [], { images: [{ service: 'api', reference: 'reg/changemaker-api:v1.0.0', source: 'workspace' }] });
    expect(notes).toContain('- api: reg/changemaker-api:v1.0.0');
  });
});
