import { filteredPublishProblem, nxWalksPublishItself, releaseCommandLineOf, unansweredPublishQuestionProblem, unusableSpecifier } from './release-command-line';

describe("nx release's command line, as the version actions read it", () => {
  it.each([
    ['release --dry-run', { command: 'release', specifier: undefined, dryRun: true, yes: false, skipPublish: false, filtered: false }],
    ['release --groups=product patch --yes', { command: 'release', specifier: 'patch', yes: true, filtered: true }],
    ['release -g product -y', { command: 'release', specifier: undefined, yes: true, filtered: true }],
    ['release publish -p docker', { command: 'publish', filtered: true }],
    ['release 1.2.3 -d', { command: 'release', specifier: '1.2.3', dryRun: true }],
    ['release v1.2.3 --dry-run', { command: 'release', specifier: 'v1.2.3', dryRun: true }],
    ['release --projects docker vmajor --yes', { command: 'release', specifier: 'vmajor', yes: true }],
    ['release -p=docker --preid rc prerelease -dy', { command: 'release', specifier: 'prerelease', dryRun: true, yes: true }],
    ['release --dry-run false 2.0.0 --skip-publish', { command: 'release', specifier: '2.0.0', dryRun: false, skipPublish: true }],
    ['release version v2.0 --dry-run', { command: 'version', specifier: 'v2.0', dryRun: true }],
    ['release v 2.0.0', { command: 'version', specifier: '2.0.0' }],
    ['release --specifier=1.0.0+build.1 --dry-run', { command: 'release', specifier: '1.0.0+build.1', dryRun: true }],
    ['release version --specifier v2.0 -d', { command: 'version', specifier: 'v2.0', dryRun: true }],
    ['release --specifier major --yes', { command: 'release', specifier: 'major', yes: true }],
    ['release publish --dry-run', { command: 'publish', specifier: undefined, dryRun: true }],
    ['run docker:publish-release --dry-run', { dryRun: true }],
  ])('%s', (line, expected) => {
    expect(releaseCommandLineOf(line.split(' '))).toMatchObject(expected);
  });

  it('refuses, in one line, a "v" specifier that is not v<semver> (which nx would drop for the commits\' version) and any other that is neither a version nor a bump', () => {
    for (const specifier of ['vmajor', 'v2.0.0x', 'vfoo', 'v2.0', 'v', '1.2', '1.0', 'foo', 'banana', 'Major']) {
      expect(unusableSpecifier(specifier)).toBe(
        `specifier "${specifier}" is not a version or major/minor/patch: give a version (2.0.0 or v2.0.0) or one of major, minor, patch, premajor, preminor, prepatch, prerelease.`,
      );
    }
    for (const specifier of [undefined, 'v1.2.3', 'v2.0.0-rc.1', '1.2.3', 'major', 'minor', 'patch', 'premajor', 'preminor', 'prepatch', 'prerelease']) expect(unusableSpecifier(specifier)).toBeUndefined();
  });

  it('refuses a version with build metadata, which the release\'s image tags (v<version>) cannot carry, before the release commit and tag', () => {
    expect(unusableSpecifier('1.1.0+build.1')).toBe(
      'specifier "1.1.0+build.1" has build metadata (+build.1), which an image tag cannot carry ("+" is not allowed in one): give the version without it (1.1.0).',
    );
    expect(unusableSpecifier('v2.0.0-rc.1+sha.5114f85')).toBe(
      'specifier "v2.0.0-rc.1+sha.5114f85" has build metadata (+sha.5114f85), which an image tag cannot carry ("+" is not allowed in one): give the version without it (2.0.0-rc.1).',
    );
  });

  it('refuses --projects and --groups on a whole nx release that publishes, whose publish step Nx would run without the image tasks', () => {
    const problem = (line: string) => filteredPublishProblem(releaseCommandLineOf(line.split(' ')));
    for (const line of ['release --groups=product patch --yes', 'release --projects docker 1.2.0', 'release -p=docker -d', 'release -g product --dry-run']) {
      expect(problem(line)).toBe(
        'nothing was written: nx release --projects (or --groups) makes Nx run the publish step without the tasks it depends on, so no image would be pushed under the new version and the release would stop at its image check: run nx release without it; the product is released with its images either way',
      );
    }
    for (const line of ['release patch --yes', 'release --groups=product patch --skip-publish', 'release version --projects docker 1.2.0', 'release changelog 1.2.0 -g product']) expect(problem(line)).toBeUndefined();
  });

  it("refuses a whole nx release that would ask whether to publish where no terminal can answer (Nx takes that as a no, commits, tags and ends with status 0)", () => {
    const problem = (line: string, stdinIsTerminal = false) => unansweredPublishQuestionProblem(releaseCommandLineOf(line.split(' ')), stdinIsTerminal);
    for (const line of ['release', 'release 1.2.0', 'release minor --yes=false']) {
      expect(problem(line)).toBe(
        'nothing was written: nx release asks before publishing, and nothing can answer here (no terminal: a CI job or a pipe), so it would commit and tag the release and publish nothing: run nx release --yes, or nx release --skip-publish and then nx release publish',
      );
      expect(problem(line, true)).toBeUndefined();
    }
    for (const line of ['release --yes', 'release 1.2.0 -y', 'release --dry-run', 'release --skip-publish', 'release publish', 'release version 1.2.0']) expect(problem(line)).toBeUndefined();
  });

  it('walks the publish plan in a dry run of the whole nx release without --yes, whatever the specifier looks like', () => {
    const walks = (line: string) => !nxWalksPublishItself(releaseCommandLineOf(line.split(' ')));
    expect(walks('release --dry-run')).toBe(true);
    expect(walks('release 1.2.3 --dry-run')).toBe(true);
    expect(walks('release v1.2.3 --dry-run')).toBe(true);
    expect(walks('release minor --dry-run')).toBe(true);
    expect(walks('release v1.2.3 --dry-run --yes')).toBe(false);
    expect(walks('release v1.2.3 --dry-run --skip-publish')).toBe(false);
    expect(walks('release version v1.2.3 --dry-run')).toBe(false);
  });
});

it('reads no command when nx was not asked release', () => {
  expect(releaseCommandLineOf(['run', 'docker:publish-release', '--dry-run']).command).toBeUndefined();
});
