import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
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

/**
 * Run as nobody, a user with no subordinate IDs: as root runs the tests here (elsewhere there is no
 * one to switch to), from a checkout nobody may read (a clone in a mode-700 temp directory is not).
 */
const workspaceRoot = join(__dirname, '../../..');
const subordinateIds = existsSync('/etc/subuid') ? readFileSync('/etc/subuid', 'utf8') : '';
const asNobody = ['--reuid=65534', '--regid=65534', '--clear-groups'];
const canRunAsNobody =
  process.getuid?.() === 0 &&
  !/^nobody:/m.test(subordinateIds) &&
  spawnSync('setpriv', [...asNobody, 'test', '-r', join(workspaceRoot, 'node_modules/@swc-node/register/package.json')]).status === 0;

describe('the sandbox run by a user without subordinate IDs', () => {
  (canRunAsNobody ? it : it.skip)('fails its first build in one line saying what to add to /etc/subuid', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'cm-rootless-'));
    const hub = await startRegistry();
    try {
      await chown(scratch, 65534, 65534);
      const script = `const s = require('./libs/testing/src/buildah-sandbox'); s.createBuildahSandbox(${JSON.stringify(hub.host)}).then((box) => s.pushStandInBaseImages(box, ${JSON.stringify(hub.host)}, [{ name: 'library/busybox:1', node: false }]).finally(() => box.remove())).catch((error) => { console.error(error.message); process.exit(1); })`;
      const run = await execa('setpriv', [...asNobody, process.execPath, '-r', '@swc-node/register', '-e', script], {
        cwd: workspaceRoot,
        env: { HOME: scratch, TMPDIR: scratch, XDG_RUNTIME_DIR: scratch },
        reject: false,
      });
      expect(run.exitCode).toBe(1);
      expect(run.stderr.trim().split('\n').at(-1)).toMatch(/^(buildah|podman) build failed: building as nobody \(not root\) needs subordinate user and group IDs, and \/etc\/subuid has none for nobody: add them as root with usermod --add-subuids 100000-165535 --add-subgids 100000-165535 nobody, or run as root$/);
    } finally {
      await hub.stop();
      await rm(scratch, { recursive: true, force: true });
    }
  }, 120_000);
});
