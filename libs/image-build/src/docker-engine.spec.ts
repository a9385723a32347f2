import type { CommandRunner } from './command-runner';
import { DockerEngine } from './docker-engine';
import { PlatformsUnsupportedError } from './errors';

describe('DockerEngine', () => {
  it('refuses several platforms without buildx before running anything', async () => {
    const commands: string[] = [];
    const runner: CommandRunner = {
      run: async (command, args) => {
        commands.push([command, ...args].join(' '));
        return { exitCode: 0, stdout: '', stderr: '' };
      },
    };
    const build = new DockerEngine(runner, false).buildImage({
      dockerfile: 'Dockerfile',
      context: '.',
      references: ['registry.test/a:1'],
      buildArgs: {},
      labels: {},
      platforms: ['linux/amd64', 'linux/arm64'],
      push: true,
    });
    await expect(build).rejects.toThrow(PlatformsUnsupportedError);
    await expect(build).rejects.toThrow(/docker cannot build for several platforms here: docker buildx is not installed/);
    expect(commands).toEqual([]);
  });
});
