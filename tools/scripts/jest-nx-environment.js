/**
 * The environment every test's nx inherits (jest.config.js `setupFiles`). Tests run nx in throwaway
 * workspaces, each a new git repository, which Nx 23 tells apart by its first commit:
 * - without NX_CACHE_DIRECTORY it keeps each one's task cache and graph database in a directory of
 *   its own under ~/.nx, left there for good when the workspace is removed (hundreds of MB a day
 *   of test runs); relative, the cache stays inside the workspace and goes with it;
 * - outside CI and containers it would start an Nx daemon for each, left running after the test.
 * A test that sets either itself keeps its own value.
 */
process.env.NX_CACHE_DIRECTORY ??= '.nx/cache';
process.env.NX_DAEMON ??= 'false';
