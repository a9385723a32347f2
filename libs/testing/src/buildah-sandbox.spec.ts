import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBuildahSandbox, NoSandboxEngineError, pushStandInBaseImages } from './buildah-sandbox';
import { startRegistry } from './registry-server';
import { skopeoManifestDigest } from './skopeo-inspect';

/** A machine where some engines are not installed: a PATH whose first directory answers for them as a shell does for a missing command. */
describe('createBuildahSandbox on a machine without buildah', () => {
  const path = process.env['PATH'];
  let missing: string;

  beforeEach(async () => {
    missing = await mkdtemp(join(tmpdir(), 'cm-missing-engines-'));
  });

  afterEach(async () => {
    process.env['PATH'] = path;
    await rm(missing, { recursive: true, force: true });
  });

  const uninstall = async (...commands: string[]) => {
    for (const command of commands) {
      await writeFile(join(missing, command), `#!/bin/sh\necho "${command}: command not found" >&2\nexit 127\n`);
      await chmod(join(missing, command), 0o755);
    }
    process.env['PATH'] = `${missing}:${path}`;
  };

  it('builds and pushes the stand-in base images with podman', async () => {
    await uninstall('buildah');
    const hub = await startRegistry();
    const sandbox = await createBuildahSandbox(hub.host);
    try {
      expect(sandbox.engine).toBe('podman');
      await pushStandInBaseImages(sandbox, hub.host, [{ name: 'library/busybox:1', node: false }]);
      expect(await skopeoManifestDigest(`docker://${hub.host}/library/busybox:1`)).toMatch(/^sha256:[0-9a-f]{64}$/);
    } finally {
      await sandbox.remove();
      await hub.stop();
    }
  }, 120_000);

  it('says to install the prerequisites when podman is missing too', async () => {
    await uninstall('buildah', 'podman');
    await expect(createBuildahSandbox('127.0.0.1:9')).rejects.toThrow(NoSandboxEngineError);
    await expect(createBuildahSandbox('127.0.0.1:9')).rejects.toThrow(/^neither buildah nor podman is installed.*run bash tools\/scripts\/install-prerequisites\.sh/);
  });
});
