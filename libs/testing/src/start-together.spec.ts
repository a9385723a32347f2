import { existsSync } from 'node:fs';
import { startRegistry, type TestRegistry } from './registry-server';
import { startTogether } from './start-together';

describe('startTogether', () => {
  it('stops what did start when another start fails, and throws that failure', async () => {
    let started: TestRegistry | undefined;
    const registry = startRegistry().then((running) => (started = running));
    const failing = new Promise<TestRegistry>((_, reject) => setTimeout(() => reject(new Error('the second server did not start')), 10));
    await expect(startTogether<[TestRegistry, TestRegistry]>([registry, failing])).rejects.toThrow('the second server did not start');
    expect(started).toBeDefined();
    await expect(fetch(`${started!.url}/v2/`)).rejects.toThrow();
    expect(existsSync(started!.storageDir)).toBe(false);
  });

  it('gives every started thing, in order, when all start', async () => {
    const [first, second] = await startTogether<[TestRegistry, TestRegistry]>([startRegistry(), startRegistry()]);
    try {
      expect((await fetch(`${first.url}/v2/`)).status).toBe(200);
      expect(second.host).not.toBe(first.host);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});
