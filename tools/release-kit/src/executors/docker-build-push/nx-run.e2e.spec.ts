import { resolve } from 'node:path';
import { runNx } from '@changemaker/testing';

const workspaceRoot = resolve(__dirname, '../../../../..');

/**
 * `nx run api:docker-push` as a user types it. The registry is a loopback port nothing listens on:
 * a dry run then prints the tags it plans and says it could not ask the registry, and nothing is sent
 * off the machine.
 */
describe('nx run api:docker-push', () => {
  const nx = (...args: string[]) => runNx(workspaceRoot, ['run', 'api:docker-push', '--skip-nx-cache', ...args], { GITEA_URL: 'http://127.0.0.1:9', GITEA_REGISTRY: '127.0.0.1:9/admin' });

  it('--image-version reaches the executor: a dry run plans the tag v1.1.0 from v{version}', async () => {
    for (const flag of ['--image-version=1.1.0', '--imageVersion=1.1.0']) {
      const run = await nx("--tags=v{version}", flag, '--dry-run');
      expect(run.exitCode).toBe(0);
      expect(run.all).toContain('dry run: 127.0.0.1:9/admin/changemaker-api [v1.1.0]: ');
      expect(run.all).toContain('nothing built, pushed or written');
    }
  }, 180_000);

  it('--version is not the option: Nx takes it for its own, prints its version and runs no task (why the option is imageVersion)', async () => {
    const run = await nx("--tags=v{version}", '--version', '1.1.0', '--dry-run');
    expect(run.exitCode).toBe(0);
    expect(run.all).not.toContain('dry run:');
    expect(run.all).not.toContain('changemaker-api');
  }, 180_000);
});
