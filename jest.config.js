/** One Jest run for the whole workspace: `npm test`. */
const { availableParallelism } = require('node:os');

const swcTransform = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  },
];

const esmOnlyPackages = [
  'execa', '@sindresorhus/merge-streams', 'figures', 'get-stream', 'human-signals', 'is-plain-obj',
  'is-stream', 'npm-run-path', 'path-key', 'pretty-ms', 'parse-ms', 'strip-final-newline',
  'unicorn-magic', 'yoctocolors', 'is-unicode-supported', '@sec-ant/readable-stream',
];

module.exports = {
  testEnvironment: 'node',
  // Jest 30's default 'soft' cleanup wraps each global's data properties in a setter that calls
  // Reflect.set on the same property, i.e. itself: a write that lands after a test file ended (a
  // late socket or child-process event) overflows the stack and fails the suite after every test
  // passed. CI saw it in build-and-push.spec.ts.
  testEnvironmentOptions: { globalsCleanup: 'off' },
  // Where nx run by a test keeps its cache, and no daemon: see the file.
  setupFiles: ['<rootDir>/tools/scripts/jest-nx-environment.js'],
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/tools', '<rootDir>/docker'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.[cm]?[tj]s$': swcTransform },
  // execa 9 and its helpers ship only ES modules; Node 20's Jest cannot require them untransformed.
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnlyPackages.join('|')})/)`],
  moduleNameMapper: {
    // unicorn-magic exports only an `import` condition, which Jest's CommonJS resolver skips.
    '^unicorn-magic$': '<rootDir>/node_modules/unicorn-magic/node.js',
    '^@changemaker/gitea$': '<rootDir>/libs/gitea/src/index.ts',
    '^@changemaker/image-build$': '<rootDir>/libs/image-build/src/index.ts',
    '^@changemaker/oci$': '<rootDir>/libs/oci/src/index.ts',
    '^@changemaker/release-contract$': '<rootDir>/libs/release-contract/src/index.ts',
    '^@changemaker/release-flow$': '<rootDir>/libs/release-flow/src/index.ts',
    '^@changemaker/release-bundle$': '<rootDir>/libs/bundle/src/index.ts',
    '^@changemaker/release-kit$': '<rootDir>/tools/release-kit/src/index.ts',
    '^@changemaker/service-health$': '<rootDir>/libs/service-health/src/index.ts',
    '^@changemaker/testing$': '<rootDir>/libs/testing/src/index.ts',
  },
  testTimeout: 120000,
  // At least two suites at a time, also on CI's 2 cores, where Jest's default (cores - 1) runs one:
  // most of a suite's time is spent waiting on nx, buildah, registries and the servers it starts,
  // not on CPU. Measured on one 2-core machine: 1618 s with one worker, 1228 s and 1297 s with two,
  // against CI's 30 minutes.
  maxWorkers: Math.max(2, availableParallelism() - 1),
};
