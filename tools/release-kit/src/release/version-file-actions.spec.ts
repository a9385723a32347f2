import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flushChanges, FsTree } from 'nx/src/generators/tree';
import { stopSignals } from '@changemaker/oci';
import { stopNoticesShown } from './stop-notices';
import VersionFileActions from './version-file-actions';

// nx's workspaceRoot here is this repository, whose checkout (edits in progress, its remote) is not
// what these tests are about: the checkout checks have their own spec (release-git-checks.spec.ts)
// and the nx release e2e spec.
jest.mock('@changemaker/release-flow', () => ({
  ...jest.requireActual('@changemaker/release-flow'),
  checkoutProblem: async () => ({ notices: [] }),
}));

describe('the VERSION file version actions', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cm-version-actions-'));
    await mkdir(join(root, 'docker'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const actionsFor = () =>
    new VersionFileActions(
      { name: '__default__', projects: ['docker'], releaseTag: { pattern: 'v{version}' } } as never,
      { name: 'docker', type: 'app', data: { root: 'docker' } } as never,
      {} as never,
    );

  it('reads the current version from docker/VERSION and writes the new one there as the release tag', async () => {
    await writeFile(join(root, 'docker/VERSION'), 'v1.4.2\n');
    const tree = new FsTree(root, false);
    const actions = actionsFor();
    expect(await actions.readCurrentVersionFromSourceManifest(tree)).toEqual({ currentVersion: '1.4.2', manifestPath: 'docker/VERSION' });
    expect(await actions.updateProjectVersion(tree, '1.5.0')).toEqual(['✍️  New version 1.5.0 written to docker/VERSION']);
    flushChanges(root, tree.listChanges());
    expect(await readFile(join(root, 'docker/VERSION'), 'utf8')).toBe('v1.5.0\n');
  });

  it('says what to write when the file holds no version, and reports a missing file as none', async () => {
    const tree = new FsTree(root, false);
    expect(await actionsFor().readCurrentVersionFromSourceManifest(tree)).toBeNull();
    await writeFile(join(root, 'docker/VERSION'), 'latest\n');
    await expect(actionsFor().readCurrentVersionFromSourceManifest(new FsTree(root, false))).rejects.toThrow(
      'docker/VERSION holds "latest", not a version: write the last released tag there (v0.0.0 before the first release).',
    );
    // Without a stack, Nx prints the one line and no "Pass --verbose to see the stacktrace".
    await expect(actionsFor().readCurrentVersionFromSourceManifest(new FsTree(root, false))).rejects.toMatchObject({ stack: undefined });
    // Not semver: nx would stop later with "Invalid semver version", naming no file.
    await writeFile(join(root, 'docker/VERSION'), 'v1.02.3\n');
    await expect(actionsFor().readCurrentVersionFromSourceManifest(new FsTree(root, false))).rejects.toThrow(
      'docker/VERSION holds "v1.02.3", not a version: write the last released tag there (v0.0.0 before the first release).',
    );
  });

  describe('before nx decides a version', () => {
    const savedArgv = process.argv;
    const savedEnv = { ...process.env };
    afterEach(() => {
      jest.restoreAllMocks();
      process.argv = savedArgv;
      process.env = { ...savedEnv };
    });
    /** The product as the plugin infers it: the release-product target under nx-release-publish. */
    const inferredProduct = { root: 'docker', targets: { 'nx-release-publish': { executor: './tools/release-kit/executors:release-product' } } };
    const validateWith = async (args: string, env: Record<string, string> = {}, product: object = inferredProduct): Promise<void> => {
      process.argv = [process.execPath, 'nx.js', ...args.split(' ')];
      Object.assign(process.env, { GITEA_URL: 'http://127.0.0.1:3000', GITEA_REPO: 'admin/changemaker.lite', GITEA_REGISTRY: '127.0.0.1:5000/admin', GITEA_REGISTRY_API_TOKEN: 'tok', ...env });
      await writeFile(join(root, 'docker/VERSION'), 'v1.4.2\n');
      await withoutListenersLeftBehind(async () => {
        let fresh: typeof VersionFileActions = VersionFileActions;
        jest.isolateModules(() => {
          fresh = (jest.requireActual('./version-file-actions') as { default: typeof VersionFileActions }).default;
        });
        const actions = new fresh({ name: '__default__', projects: ['docker'], releaseTag: { pattern: 'v{version}' } } as never, { name: 'docker', type: 'app', data: product } as never, {} as never);
        await actions.validate(new FsTree(root, false));
      });
    };

    it('refuses a product the plugin gave no release target (another project holds a VERSION file too, and nx.json names both), before anything is written', async () => {
      await expect(validateWith('release 1.5.0 --dry-run', {}, { root: 'docker', targets: {} })).rejects.toThrow(
        /^nothing was written: docker has no nx-release-publish target: the plugin gives one to a single product, the project with a VERSION file, or, when several projects have one, the one of them that nx\.json's release\.projects \(or a release group\) names; name exactly one such project there$/,
      );
      await expect(validateWith('release 1.5.0 --dry-run', {}, { root: 'docker', targets: { 'nx-release-publish': { executor: 'nx:noop' } } })).rejects.toThrow('docker has no nx-release-publish target');
    });

    it('refuses a "v" specifier nx would drop (taking the version from the commits instead), in one line', async () => {
      jest.spyOn(console, 'log').mockImplementation(() => undefined);
      await expect(validateWith('release vmajor --dry-run')).rejects.toThrow(/^specifier "vmajor" is not a version or major\/minor\/patch: [^\n]*$/);
      await expect(validateWith('release version v2.0.0x')).rejects.toThrow('specifier "v2.0.0x"');
      await expect(validateWith('release v1.2.3 --dry-run')).resolves.toBeUndefined();
      await expect(validateWith('release --dry-run')).resolves.toBeUndefined();
    });

    it('lets a dry run without a signing key go on, saying a real release would stop there', async () => {
      const printed = jest.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        await expect(validateWith('release 1.2.3 --dry-run')).resolves.toBeUndefined();
        expect(printed.mock.calls.map((call) => String(call[0]))).toEqual([expect.stringMatching(/^dry run: a real release would stop here: no release signing key: set RELEASE_SIGNING_KEY_FILE/)]);
        // The publish walk and the image tasks inherit the environment: they leave it to this line.
        expect(stopNoticesShown(process.env)).toBe(true);
      } finally {
        printed.mockRestore();
      }
    });

    it('refuses malformed release settings before anything is written', async () => {
      await expect(validateWith('release 1.2.3 --yes', { GITEA_URL: 'ftp://127.0.0.1:9' })).rejects.toThrow('GITEA_URL "ftp://127.0.0.1:9" is not an http(s) URL');
    });
  });
});

/**
 * Each validation here stands for one nx process: it loads its modules afresh (nx's among them) and
 * registers what a stopped release says, each adding exit and signal listeners that a real process
 * drops when it ends. Removed after each, so they pile up in no Jest worker (Node's warning past 10)
 * and none runs at the worker's exit.
 */
async function withoutListenersLeftBehind(run: () => Promise<void>): Promise<void> {
  const events: NodeJS.EventEmitter = process;
  const names = ['exit', ...stopSignals];
  const before = new Map(names.map((name) => [name, events.listeners(name)]));
  try {
    await run();
  } finally {
    for (const name of names) {
      for (const listener of events.listeners(name)) if (!before.get(name)?.includes(listener)) events.removeListener(name, listener as (...args: unknown[]) => void);
    }
  }
}
