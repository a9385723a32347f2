import { sayWhyARealReleaseWouldStop, stopNoticesShown } from './stop-notices';

describe('why a real release would stop, said once per nx release --dry-run', () => {
  afterEach(() => jest.restoreAllMocks());

  it('prints each reason as a dry-run line and marks the environment the tasks inherit', () => {
    const printed = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const env: NodeJS.ProcessEnv = {};
    sayWhyARealReleaseWouldStop(['no release signing key: set one'], env);
    expect(printed.mock.calls).toEqual([['dry run: a real release would stop here: no release signing key: set one']]);
    expect(stopNoticesShown(env)).toBe(true);
  });

  it('marks nothing when there was nothing to say, so a task still says its own reason', () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const env: NodeJS.ProcessEnv = {};
    sayWhyARealReleaseWouldStop([], env);
    expect(stopNoticesShown(env)).toBe(false);
  });
});
