import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { debianDockerClientFirst, startDockerDaemon, startRegistry, type TestDockerDaemon, type TestRegistry } from '@changemaker/testing';
import { workspaceRoot } from './fixtures/releases';

/**
 * install.sh's undo of a refused pull (local_images_of, put_back_local_images) against a real Docker daemon
 * and registry: the docker stub of the other specs plays `image inspect`, `tag` and `image rm` as
 * these functions expect, and this is where those expectations are held against Docker itself.
 */
const installScript = join(workspaceRoot, 'docker/scripts/install.sh');

describe('the local tags a refused pull moved, put back on a real Docker daemon', () => {
  let registry: TestRegistry;
  let daemon: TestDockerDaemon;
  let scratch: string;

  beforeAll(async () => {
    registry = await startRegistry();
    daemon = await startDockerDaemon(registry.host);
    scratch = await mkdtemp(join(tmpdir(), 'cm-local-tags-'));
  }, 60_000);
  afterAll(async () => {
    await daemon?.stop();
    await registry?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  const docker = async (...args: string[]) => (await execa('docker', args, { env: { ...daemon.env, PATH: debianDockerClientFirst } })).stdout;
  const imageId = (reference: string) => docker('image', 'inspect', '--format', '{{.Id}}', reference);

  /** An image of one file, made without a container (docker import), tagged `reference` here and pushed. */
  async function pushImage(reference: string, content: string): Promise<string> {
    const tree = join(scratch, content);
    await mkdir(tree, { recursive: true });
    await writeFile(join(tree, 'content'), `${content}\n`);
    await execa('tar', ['-cf', `${tree}.tar`, '-C', tree, '.']);
    await docker('import', `${tree}.tar`, reference);
    await docker('push', reference);
    return imageId(reference);
  }

  it('a tag pulled onto another image names its own again, and a tag the pull added is taken off', async () => {
    const pinned = `${registry.host}/admin/postgres:16-alpine`;
    const added = `${registry.host}/admin/changemaker-api:v1.2.0`;
    const running = await pushImage(pinned, 'postgres as released');
    // Pushed again under the same tag from elsewhere: this machine's tag still names the image that runs.
    const pushedAgain = await pushImage(`${registry.host}/admin/elsewhere:1`, 'postgres pushed again');
    await docker('tag', pushedAgain, pinned);
    await docker('push', pinned);
    await docker('tag', running, pinned);
    await docker('image', 'rm', `${registry.host}/admin/elsewhere:1`);
    await pushImage(added, 'api v1.2.0');
    await docker('image', 'rm', added);

    const script = [
      `source ${JSON.stringify(installScript)}`,
      `before="$(local_images_of "$(printf 'v2-postgres %s\\napi %s\\n' ${JSON.stringify(pinned)} ${JSON.stringify(added)})")"`,
      `docker pull --quiet ${JSON.stringify(pinned)} >/dev/null`,
      `docker pull --quiet ${JSON.stringify(added)} >/dev/null`,
      `echo "after the pull: $(docker image inspect --format '{{.Id}}' ${JSON.stringify(pinned)})"`,
      'put_back_local_images "$before" refused',
    ].join('\n');
    const result = await execa('bash', ['-c', script], { env: { ...process.env, ...daemon.env, PATH: debianDockerClientFirst }, reject: false });

    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(result.stdout.split('\n')).toEqual([
      `after the pull: ${pushedAgain}`,
      `${pinned}: tagged the image it named before the pull again`,
      `${added}: untagged the image the pull fetched (nothing had this tag before)`,
    ]);
    expect(await imageId(pinned)).toBe(running);
    await expect(imageId(added)).rejects.toThrow(/No such image/);
  }, 120_000);
});
