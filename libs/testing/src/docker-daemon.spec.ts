import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { startDockerDaemon } from './docker-daemon';
import { startRegistry } from './registry-server';

describe('startDockerDaemon', () => {
  it('stop() after the daemon was killed outright removes its mount and its directory', async () => {
    const hub = await startRegistry();
    const daemon = await startDockerDaemon(hub.host);
    const directory = dirname(daemon.env.DOCKER_HOST.replace(/^unix:\/\//, ''));
    try {
      process.kill(Number(await readFile(`${directory}/dockerd.pid`, 'utf8')), 'SIGKILL');
      await daemon.stop();
      expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(directory);
      expect(existsSync(directory)).toBe(false);
    } finally {
      await hub.stop();
    }
  }, 60_000);
});
