import { access, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { execa } from 'execa';
import { ReleaseClient, stampFor } from '@changemaker/gitea';
import { releasePublisherId } from '@changemaker/release-flow';
import { addBareOrigin, createThrowawayWorkspace, releaseManagerIdentity, runNx, startGiteaServer, trustedSigningKey, type TestGiteaServer, type ThrowawayWorkspace, type TrustedSigningKey } from '@changemaker/testing';

const token = 'nx-release-checks-token-3a91';
const readOnlyToken = 'nx-release-checks-reader-77c0';
const workspaceRoot = resolve(__dirname, '../../../..');

/**
 * `nx release` as a user types it, in a throwaway clone, for what it must refuse or report before
 * and after the version is decided. No image is built: the registry is a closed loopback port,
 * which a dry run reports and a real run fails on.
 */
/** The parts of nx.json these checks change. */
interface NxJsonShape {
  plugins: Array<{ options: Record<string, unknown> }>;
  targetDefaults: Record<string, unknown>;
  release: Record<string, unknown>;
}

describe('nx release checks', () => {
  let workspace: ThrowawayWorkspace;
  let gitea: TestGiteaServer;
  let scratch: string;
  let signing: TrustedSigningKey;
  /** A registry that answers but holds nothing (every manifest unknown), for a real release that must get past the preflight. */
  let registry: Server;
  let emptyRegistry: string;

  beforeAll(async () => {
    [workspace, gitea, scratch] = await Promise.all([
      createThrowawayWorkspace(workspaceRoot),
      startGiteaServer({ tokens: { [token]: { login: 'release-manager', canWrite: true }, [readOnlyToken]: { login: 'reader', canWrite: false } } }),
      mkdtemp(join(tmpdir(), 'cm-release-checks-')),
    ]);
    signing = await trustedSigningKey(workspace, scratch);
    registry = createServer((request, response) => response.writeHead(request.url === '/v2/' ? 200 : 404).end());
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    emptyRegistry = `127.0.0.1:${(registry.address() as AddressInfo).port}/admin`;
    await workspace.commitAll('feat(api): a feature, so the commits alone would give 0.1.0');
    // The remote nx release pushes to, as a clone has: a bare repository (no release here gets as far as its push).
    await addBareOrigin(workspace, join(scratch, 'origin.git'));
  }, 120_000);

  afterAll(async () => {
    await gitea?.stop();
    await new Promise((resolve) => registry?.close(resolve));
    await workspace?.remove();
    await rm(scratch, { recursive: true, force: true });
  });

  const nx = (args: readonly string[], env: Record<string, string> = {}) =>
    runNx(workspace.root, args, {
      GITEA_URL: gitea.url,
      GITEA_REPO: `${gitea.owner}/${gitea.repo}`,
      GITEA_REGISTRY: '127.0.0.1:9/admin',
      GITEA_REGISTRY_API_TOKEN: token,
      RELEASE_SIGNING_KEY_FILE: signing.keyFile,
      ...releaseManagerIdentity,
      ...env,
    });
  const gitState = async () => ({
    head: await workspace.git('rev-parse', 'HEAD'),
    tags: await workspace.git('tag', '--list'),
    status: await workspace.git('status', '--porcelain', '--untracked-files=all', '--', '.', ':!dist', ':!tmp', ':!.nx'),
  });

  it.each(['vmajor', 'v2.0.0x', 'vfoo', 'v2.0'])('refuses the specifier %s in one line instead of releasing the commits\' version', async (specifier) => {
    const before = await gitState();
    const result = await nx(['release', specifier, '--dry-run']);
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toContain(`specifier "${specifier}" is not a version or major/minor/patch`);
    expect(result.all).not.toContain('new version');
    expect(await gitState()).toEqual(before);
  }, 60_000);

  it('refuses nx release without --yes where nothing can answer its question before publishing (stdin not a terminal), before writing anything', async () => {
    const before = await gitState();
    const result = await nx(['release', '1.2.3']);
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toContain('nothing was written: nx release asks before publishing, and nothing can answer here (no terminal: a CI job or a pipe)');
    expect(result.all).not.toContain('Skipped publishing');
    expect(await gitState()).toEqual(before);
  }, 60_000);

  it('refuses malformed settings before writing anything: no VERSION, CHANGELOG, commit or tag', async () => {
    const before = await gitState();
    const result = await nx(['release', '1.2.3', '--yes'], { GITEA_URL: 'ftp://127.0.0.1:9', GITEA_REPO: 'bad' });
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toContain('the release settings are not usable; nothing was written');
    expect(result.all).toContain('GITEA_URL "ftp://127.0.0.1:9" is not an http(s) URL');
    expect(result.all).toContain('GITEA_REPO "bad" is not owner/name');
    expect(await gitState()).toEqual(before);
    // Read as unset, it would have sent the images and the registry credentials to the public default.
    const empty = await nx(['release', '1.2.3', '--yes'], { GITEA_REGISTRY: '' });
    expect(empty.exitCode).not.toBe(0);
    expect(empty.all).toContain('GITEA_REGISTRY is set but empty: set it, or unset it to use the default gitea.bnkops.com/admin');
    expect(empty.all).not.toMatch(/\n\s+at /);
    expect(await gitState()).toEqual(before);
  }, 90_000);

  it('refuses to publish an unsigned release, or one signed by a key the product does not list, before writing anything', async () => {
    const before = await gitState();
    const unsigned = await nx(['release', '1.2.3', '--yes'], { RELEASE_SIGNING_KEY_FILE: '' });
    expect(unsigned.exitCode).not.toBe(0);
    expect(unsigned.all).toContain('the release settings are not usable; nothing was written');
    expect(unsigned.all).toContain('no release signing key: set RELEASE_SIGNING_KEY_FILE (a path) or RELEASE_SIGNING_KEY (the key)');

    const otherKey = join(scratch, 'other-key');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const untrusted = await nx(['release', '1.2.3', '--dry-run'], { RELEASE_SIGNING_KEY_FILE: otherKey });
    expect(untrusted.exitCode).not.toBe(0);
    expect(untrusted.all).toContain(`the signing key from RELEASE_SIGNING_KEY_FILE (${otherKey}) is not in docker/allowed_signers or baked_allowed_signers in docker/scripts/install.sh`);
    expect(untrusted.all).toMatch(/add the line "release@changemaker-lite ssh-ed25519 AAAA\S+" to docker\/allowed_signers and baked_allowed_signers/);
    expect(untrusted.all).not.toContain('-----BEGIN OPENSSH PRIVATE KEY-----');
    expect(await gitState()).toEqual(before);
  }, 60_000);

  it('walks the publish plan for a v-prefixed version, as for any other', async () => {
    const before = await gitState();
    const result = await nx(['release', 'v1.2.3', '--dry-run']);
    expect(result.exitCode).toBe(0);
    expect(result.all).toContain('The publish step nx release would run for 1.2.3');
    expect(result.all).toContain(`POST /repos/${gitea.owner}/${gitea.repo}/releases: create v1.2.3 as a draft`);
    expect(await gitState()).toEqual(before);
  }, 180_000);

  /** Runs `check` on a commit whose nx.json `edit` changed, as a team's would be; the commit is dropped after. */
  async function withNxJson(edit: (nxJson: NxJsonShape) => void, message: string, check: () => Promise<void>): Promise<void> {
    const nxJsonPath = join(workspace.root, 'nx.json');
    const nxJson = JSON.parse(await readFile(nxJsonPath, 'utf8')) as NxJsonShape;
    edit(nxJson);
    await writeFile(nxJsonPath, `${JSON.stringify(nxJson, null, 2)}\n`);
    await workspace.commitAll(message);
    try {
      await check();
    } finally {
      await workspace.git('reset', '-q', '--hard', 'HEAD~1');
    }
  }

  it("cuts the release against the plugin's registry option, where its image tasks push, not GITEA_REGISTRY", async () => {
    const withRegistry = (nxJson: NxJsonShape) => {
      nxJson.plugins[0]!.options['registry'] = emptyRegistry;
    };
    await withNxJson(withRegistry, 'chore: the registry in the plugin options', async () => {
      const before = await gitState();
      // GITEA_REGISTRY (127.0.0.1:9/admin) answers nothing: asked for anything, the plan would say so.
      const result = await nx(['release', '1.2.3', '--dry-run', '--yes']);
      expect(result.exitCode).toBe(0);
      expect(result.all).toContain(`Dry run: plan to release v1.2.3 to ${gitea.url} (${gitea.owner}/${gitea.repo}), images in ${emptyRegistry}`);
      expect(result.all).toContain(`dry run: ${emptyRegistry}/changemaker-api [`);
      // mirror-images mirrors into GITEA_REGISTRY unless told otherwise: the way on names this registry.
      expect(result.all).toContain(`postgres:16-alpine: mirror it: npx nx run docker:mirror-images --registry=${emptyRegistry}`);
      expect(result.all).not.toContain('127.0.0.1:9');
      expect(await gitState()).toEqual(before);
    });
  }, 180_000);

  /** Each of `line`'s runs, a dry run and a real one, refused before anything is written. */
  async function expectRefusedBeforeWriting(line: string | RegExp, env: Record<string, string> = {}): Promise<void> {
    const before = await gitState();
    for (const args of [['release', '1.2.3', '--dry-run'], ['release', '1.2.3', '--yes']]) {
      const result = await nx(args, env);
      expect(result.exitCode).not.toBe(0);
      if (typeof line === 'string') expect(result.all).toContain(`nothing was written: ${line}`);
      else expect(result.all).toMatch(line);
      expect(await gitState()).toEqual(before);
    }
  }

  it('refuses, before writing anything, a registry given to the image targets alone (targetDefaults by executor), where the release would not look for them', async () => {
    const elsewhere = emptyRegistry.replace(/\/admin$/, '/elsewhere');
    const imagesElsewhere = (nxJson: NxJsonShape) => {
      nxJson.targetDefaults['./tools/release-kit/executors:docker-build-push'] = { options: { registry: elsewhere } };
    };
    const escaped = (text: string) => text.replace(/\./g, '\\.');
    const line = new RegExp(`nothing was written: [a-z-]+'s nx-release-publish pushes its image to ${escaped(elsewhere)}, but the release checks, records and packages the images in ${escaped(emptyRegistry)}: set registry once, in the plugin's options in nx\\.json`);
    // GITEA_REGISTRY answers: a real run's preflight asks it before the version is decided.
    await withNxJson(imagesElsewhere, 'chore: the images pushed elsewhere', () => expectRefusedBeforeWriting(line, { GITEA_REGISTRY: emptyRegistry }));
  }, 180_000);

  it.each([
    ['a tag pattern other than v{version}', (release: Record<string, unknown>) => ({ ...release, releaseTag: { pattern: 'release-{version}' } }), `nx.json's release tag pattern is "release-{version}"`],
    ['git.push, which would push the tag before anything is uploaded', (release: Record<string, unknown>) => ({ ...release, git: { ...(release['git'] as object), push: true } }), "nx.json's release git.push is true"],
  ])("refuses nx.json's release settings this flow cannot work with, before writing anything: %s", async (_what, change, line) => {
    const settings = (nxJson: NxJsonShape) => {
      nxJson.release = change(nxJson.release);
    };
    await withNxJson(settings, 'chore: nx release settings of our own', () => expectRefusedBeforeWriting(line, { GITEA_REGISTRY: emptyRegistry }));
  }, 120_000);

  it('loads its plugin code with no TypeScript transpiler: the version actions and changelog renderer in nx release, each task\'s executor', async () => {
    const modulesDirectory = await mkdtemp(join(scratch, 'modules-'));
    const recorder = join(scratch, 'record-modules.js');
    await writeFile(recorder, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(modulesDirectory)} + '/' + process.pid + '.json', JSON.stringify(Object.keys(require.cache))));\n`);
    const result = await nx(['release', '1.2.5', '--dry-run'], { NODE_OPTIONS: `--require ${recorder}` });
    expect(result.exitCode).toBe(0);
    const processes = await Promise.all((await readdir(modulesDirectory)).map(async (file) => JSON.parse(await readFile(join(modulesDirectory, file), 'utf8')) as string[]));
    // The apps' own build tasks (@nx/esbuild) read their tsconfig with typescript: not this plugin's processes.
    const plugins = processes.filter((modules) => modules.some((path) => path.includes('node_modules/.cache/changemaker-release-kit/')));
    const compiled = [...new Set(plugins.flat().filter((path) => path.includes('node_modules/.cache/changemaker-release-kit/')).map((path) => basename(path)))];
    expect(compiled).toEqual(expect.arrayContaining(['changelog-renderer.js', 'docker-build-push.js', 'release-product.js', 'version-actions.js']));
    expect(plugins.flat().filter((path) => /node_modules\/(typescript|@swc-node|@swc\/core|ts-node)\//.test(path))).toEqual([]);
  }, 180_000);

  it('fails a dry run without --yes whose publish plan fails, as with --yes', async () => {
    const result = await nx(['release', '1.2.4', '--dry-run'], { GITEA_REGISTRY_API_TOKEN: 'tok-WRONG-999' });
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toContain('Failed tasks');
    expect(result.all).toContain('the publish plan for 1.2.4 failed');
  }, 180_000);

  it('refuses a real release whose Gitea or registry cannot be used, before writing anything', async () => {
    const before = await gitState();
    const result = await nx(['release', '1.2.3', '--yes'], { GITEA_REPO: `${gitea.owner}/not-there` });
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toContain('the release settings are not usable; nothing was written:');
    expect(result.all).toContain(`Gitea: Repository ${gitea.owner}/not-there not found on ${gitea.url} (404)`);
    expect(result.all).toContain('the registry: registry 127.0.0.1:9 is unreachable');
    expect(result.all).not.toContain(token);
    expect(await gitState()).toEqual(before);
  }, 60_000);

  it('refuses a release whose remote pushes to another repository than the Gitea one, before writing or asking anything', async () => {
    const before = await gitState();
    const elsewhere = `${gitea.url}/someone-else/${gitea.repo}.git`;
    await workspace.git('remote', 'set-url', '--push', 'origin', elsewhere);
    try {
      const requests = gitea.requests().length;
      const result = await nx(['release', '1.2.3', '--yes'], { GITEA_REGISTRY: emptyRegistry });
      expect(result.exitCode).not.toBe(0);
      expect(result.all).toContain(
        `nothing was written: git remote origin pushes to ${elsewhere}, not to ${gitea.url}/${gitea.owner}/${gitea.repo}, where the release is published and made public when its tag arrives: ` +
          `point origin at that repository (git remote set-url --push origin ${gitea.url}/${gitea.owner}/${gitea.repo}.git), or set GITEA_URL and GITEA_REPO to the Gitea origin is`,
      );
      expect(gitea.requests().length).toBe(requests);
      expect(await gitState()).toEqual(before);
    } finally {
      await workspace.git('config', '--unset', 'remote.origin.pushurl');
    }
  }, 60_000);

  it('says what a Ctrl-C left while the preflight waits for the remote: nothing, in one line', async () => {
    const before = await gitState();
    const origin = await workspace.git('remote', 'get-url', 'origin');
    const asked = join(scratch, 'origin-asked');
    // An ssh remote whose "ssh" answers nothing for a while, as a slow or hanging server does.
    await workspace.git('remote', 'set-url', 'origin', `ssh://127.0.0.1/${gitea.owner}/${gitea.repo}.git`);
    try {
      const run = nx(['release', '1.2.3', '--yes'], { GIT_SSH_COMMAND: `sh -c 'touch "${asked}"; sleep 10' --` });
      for (let waited = 0; !(await access(asked).then(() => true, () => false)); waited += 50) {
        // Bounded: a run that never asks the remote must fail this test, not hold jest open.
        if (waited > 30_000) {
          run.kill();
          throw new Error(`nx release never asked the remote:\n${(await run).all}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      process.kill(run.pid!, 'SIGINT');
      const stopped = await run;
      expect(stopped.signal).toBe('SIGINT');
      expect(stopped.all.trim().split('\n').pop()).toBe('nx release: stopped by SIGINT before anything was written, committed or pushed: run nx release again');
    } finally {
      await workspace.git('remote', 'set-url', 'origin', origin);
    }
    expect(await gitState()).toEqual(before);
  }, 60_000);

  it('refuses a token that may read but not write releases before anything is written, in Gitea or git', async () => {
    const before = await gitState();
    const result = await nx(['release', '1.2.3', '--yes'], { GITEA_REGISTRY: emptyRegistry, GITEA_REGISTRY_API_TOKEN: readOnlyToken });
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toContain('the release settings are not usable; nothing was written:');
    expect(result.all).toContain('Gitea: 403 from Gitea on admin/changemaker.lite: the token lacks the write:repository scope');
    expect(result.all).not.toContain(readOnlyToken);
    expect(await gitState()).toEqual(before);
    expect(gitea.releases()).toEqual([]);
  }, 120_000);

  it('ends a real release that failed after its commit and tag with what they are and how to go on', async () => {
    // Gitea and the registry answer the preflight; then Gitea refuses the release's claim.
    gitea.faults.answerNext('POST', 403, 8);
    const result = await nx(['release', '1.2.3', '--yes'], { GITEA_REGISTRY: emptyRegistry }).finally(() => gitea.faults.reset());
    expect(result.exitCode).not.toBe(0);
    expect(await workspace.git('tag', '--points-at', 'HEAD')).toBe('v1.2.3');
    const lines = result.all.trim().split('\n');
    expect(lines[lines.length - 1]).toBe(
      "v1.2.3: the release commit and tag are local only (nothing was pushed): finish with npx nx release publish, or abandon with npx nx run docker:abandon-release (its draft, if one was made, tag and release commit)",
    );
  }, 180_000);

  it('refuses to cut another version over the unfinished v1.2.3, tagged here and never pushed, saying to finish or abandon it', async () => {
    const before = await gitState();
    const releaseCommit = before.head.slice(0, 12);
    for (const args of [['release', '1.3.0', '--yes'], ['release', 'patch', '--dry-run']]) {
      const result = await nx(args, { GITEA_REGISTRY: emptyRegistry });
      expect(result.exitCode).not.toBe(0);
      expect(result.all).toContain(
        `nothing was written: v1.2.3 (${releaseCommit}), the last release in HEAD's history, is not on origin: it stopped before its push, so it is not public. ` +
          'Finish it with npx nx release publish, or undo it with npx nx run docker:abandon-release, then run nx release again',
      );
      expect(await gitState()).toEqual(before);
    }
  }, 120_000);

  it('abandons the unfinished v1.2.3 with the command its stop line gave: a dry run changes nothing, the real run deletes its draft, tag and release commit', async () => {
    const releaseCommit = await workspace.git('rev-parse', 'HEAD');
    const parent = await workspace.git('rev-parse', 'HEAD~1');
    // v1.2.3's claim, as its image tasks make it: a draft stamped by its release commit.
    const client = new ReleaseClient({ giteaUrl: gitea.url, repo: `${gitea.owner}/${gitea.repo}`, token });
    await client.createRelease({ tag_name: 'v1.2.3', target_commitish: releaseCommit, name: 'v1.2.3', body: stampFor(releasePublisherId('v1.2.3', releaseCommit)), draft: true });
    const before = { git: await gitState(), releases: JSON.stringify(gitea.releases()) };

    const dry = await nx(['run', 'docker:abandon-release', '--dry-run', '--json']);
    expect(dry.exitCode).toBe(0);
    expect(dry.all).toContain('dry run: nothing was changed; a real run deletes its draft in Gitea, the tag v1.2.3, the release commit');
    const report = JSON.parse(dry.stdout.split('\n').find((line) => line.startsWith('{"tag"')) ?? '{}') as { tag?: string; dryRun?: boolean; head?: string; stages?: { stage: string; status: string }[] };
    expect(report).toMatchObject({ tag: 'v1.2.3', dryRun: true, head: releaseCommit });
    expect(report.stages?.map(({ stage, status }) => `${stage} ${status}`)).toEqual(['remote ran', 'gitea ran', 'delete-draft planned', 'delete-tag planned', 'undo-commit planned']);
    expect({ git: await gitState(), releases: JSON.stringify(gitea.releases()) }).toEqual(before);

    const real = await nx(['run', 'docker:abandon-release']);
    expect(real.exitCode).toBe(0);
    expect(real.all).toContain(`abandoned v1.2.3: deleted its draft in Gitea, the tag v1.2.3, the release commit; HEAD is ${parent.slice(0, 12)}`);
    expect(real.all).not.toContain(token);
    expect(gitea.releases()).toEqual([]);
    expect(await workspace.git('tag', '--list', 'v1.2.3')).toBe('');
    expect(await workspace.git('rev-parse', 'HEAD')).toBe(parent);
  }, 120_000);

  it('ends a release whose git tag failed (tag.gpgSign without a working gpg) with what it left and how to finish it, which works', async () => {
    const head = await workspace.git('rev-parse', 'HEAD');
    const brokenSigning = { GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_0: 'tag.gpgSign', GIT_CONFIG_VALUE_0: 'true', GIT_CONFIG_KEY_1: 'gpg.program', GIT_CONFIG_VALUE_1: 'false' };
    const result = await nx(['release', '1.3.0', '--yes'], { GITEA_REGISTRY: emptyRegistry, ...brokenSigning });
    expect(result.exitCode).not.toBe(0);
    expect(await workspace.git('log', '-1', '--format=%s')).toBe('chore(release): v1.3.0');
    expect(await workspace.git('tag', '--list', 'v1.3.0')).toBe('');
    const lines = result.all.trim().split('\n');
    expect(lines[lines.length - 1]).toBe(
      'v1.3.0: stopped after the release commit, before its tag: nothing was tagged or pushed: tag it and finish this release with git tag -a v1.3.0 -m v1.3.0 && npx nx release publish, or undo the commit with git reset --hard HEAD~1 and run nx release again',
    );
    // Undoing it as said leaves the checkout as it was.
    await workspace.git('reset', '-q', '--hard', 'HEAD~1');
    expect(await workspace.git('rev-parse', 'HEAD')).toBe(head);
  }, 180_000);

  it('refuses, in one line and before writing anything, a version not above the last release, and a checkout with uncommitted changes', async () => {
    // v1.2.3 released: its tag on origin, as a finished release's is.
    await workspace.git('tag', '-a', 'v1.2.3', '-m', 'v1.2.3');
    await workspace.git('push', '-q', 'origin', 'main', 'v1.2.3');
    const before = await gitState();
    for (const [args, line] of [
      [['release', '1.2.2', '--yes'], 'nothing was written: 1.2.2 is below the last release 1.2.3: give a version above 1.2.3, or major, minor or patch'],
      [['release', '1.2.3', '--dry-run'], 'nothing was written: 1.2.3 is the version already released (v1.2.3): give a higher version, or major, minor or patch; to finish an unfinished v1.2.3, run npx nx release publish'],
    ] as const) {
      const result = await nx(args, { GITEA_REGISTRY: emptyRegistry });
      expect(result.exitCode).not.toBe(0);
      expect(result.all).toContain(line);
      // Nx's own error line only: no stack hint, and not the stop line of a release that was cut.
      expect(result.all).not.toContain('Pass --verbose');
      expect(result.all).not.toContain('the release commit and tag are');
      expect(await gitState()).toEqual(before);
    }

    await writeFile(join(workspace.root, 'apps/api/notes.md'), 'an edit not committed yet\n');
    try {
      const dirty = await nx(['release', '1.2.4', '--yes'], { GITEA_REGISTRY: emptyRegistry });
      expect(dirty.exitCode).not.toBe(0);
      expect(dirty.all).toContain('nothing was written: uncommitted changes in apps/api/notes.md: commit or stash them (git stash -u), then run nx release again');
      expect(await workspace.git('rev-parse', 'HEAD')).toBe(before.head);
      expect(await workspace.git('tag', '--list')).toBe(before.tags);
    } finally {
      await rm(join(workspace.root, 'apps/api/notes.md'));
    }
  }, 120_000);

  it('refuses, in one line and before writing or pushing anything, a release its packaging would refuse: a compose image neither built here nor pinned', async () => {
    const compose = join(workspace.root, 'docker/docker-compose.prod.yml');
    const original = await readFile(compose, 'utf8');
    await writeFile(compose, `${original}\n  memcached:\n    image: \${GITEA_REGISTRY:-gitea.bnkops.com/admin}/memcached:1.6\n`);
    await workspace.commitAll('feat(docker): a memcached service, not pinned in the mirror list');
    try {
      const before = await gitState();
      const releasesBefore = gitea.releases().length;
      const refusal =
        "would refuse it: docker/docker-compose.prod.yml: image ${GITEA_REGISTRY:-gitea.bnkops.com/admin}/memcached:1.6 is neither an image of this workspace's projects (changemaker-admin, changemaker-api, changemaker-code-server, changemaker-media-api, changemaker-nginx) nor pinned in docker/mirror-images.json; pin it there";
      for (const args of [['release', '--dry-run', '--yes'], ['release', '--yes']]) {
        const result = await nx(args, { GITEA_REGISTRY: emptyRegistry });
        expect(result.exitCode).not.toBe(0);
        expect(result.all).toMatch(/nothing was written: packaging v\d+\.\d+\.\d+ would refuse it: /);
        expect(result.all).toContain(refusal);
        // Refused while versioning: no image task ran, so no image was tagged with the version.
        expect(result.all).not.toContain('nx-release-publish');
        expect(result.all).not.toContain('the release commit and tag are');
        expect(await gitState()).toEqual(before);
      }
      expect(gitea.releases().length).toBe(releasesBefore);
    } finally {
      await workspace.git('reset', '-q', '--hard', 'HEAD~1');
    }
  }, 120_000);
});
