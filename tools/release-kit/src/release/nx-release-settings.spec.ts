import { nxReleaseSettingsProblem } from './nx-release-settings';

describe("nx.json's release settings this flow relies on", () => {
  it("pass as this workspace's nx.json has them", () => {
    expect(nxReleaseSettingsProblem({ releaseTag: { pattern: 'v{version}' }, git: { commit: true, tag: true, push: false }, changelog: { workspaceChangelog: { createRelease: false } } }, 'v{version}')).toBeUndefined();
    expect(nxReleaseSettingsProblem(undefined, 'v{version}')).toBeUndefined();
  });

  it.each([
    ['another tag pattern', {}, 'release-{version}', /^nx\.json's release tag pattern is "release-\{version\}", but this product's releases are tagged v\{version\}.*: set release\.releaseTag\.pattern to "v\{version\}"$/],
    ['git.push', { git: { push: true } }, 'v{version}', /^nx\.json's release git\.push is true, .*: set it to false; /],
    ['version.git.push', { version: { git: { push: true } } }, 'v{version}', /^nx\.json's release git\.push is true/],
    ['a GitHub release', { changelog: { workspaceChangelog: { createRelease: 'github' as const } } }, 'v{version}', /createRelease asks Nx for a GitHub or GitLab release; .*: set it to false$/],
  ])('refuse %s in one line saying what to set', (_what, release, pattern, message) => {
    const problem = nxReleaseSettingsProblem(release, pattern);
    expect(problem).toMatch(message);
    expect(problem).not.toContain('\n');
  });
});
