import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa, type Result } from 'execa';
import { sha256Hex } from '@changemaker/oci';
import { manifestFileName, signatureNamespace, signerPrincipal, type ReleaseManifest } from '@changemaker/release-contract';
import type { RecordedRequest } from '@changemaker/testing';
import { makeFeatureChange, signalGroup, startReleaseRehearsal, type ReleaseRehearsal } from '../../../../demo/release-rehearsal';

/**
 * `nx release` stopped part-way, as an operator's Ctrl-C (SIGINT to the process group) or a CI
 * runner cancelling the job (SIGTERM) stops it, and two releases of one version started at once
 * (a laptop and CI): nothing public is left half-done, the last line says what is left and what to
 * run, and `nx release publish` then finishes the same release, once. One rehearsal for every case.
 */
describe('nx release, stopped part-way or racing another', () => {
  let rehearsal: ReleaseRehearsal;
  /** What the next Gitea request is waited for: when `when` holds for it, `then` runs before Gitea answers. */
  let onGiteaRequest: { when: (request: RecordedRequest) => boolean; then: () => void } | undefined;

  beforeAll(async () => {
    rehearsal = await startReleaseRehearsal();
    rehearsal.gitea.observe(() => {
      const request = rehearsal.gitea.requests().at(-1);
      if (!request || !onGiteaRequest?.when(request)) return;
      const { then } = onGiteaRequest;
      onGiteaRequest = undefined;
      then();
    });
    const mirrored = await rehearsal.nx(['run', 'docker:mirror-images', `--manifest=${rehearsal.mirrorList}`]);
    expect(mirrored.exitCode).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await rehearsal?.stop();
  });

  afterEach(() => {
    onGiteaRequest = undefined;
    expect(rehearsal.gitea.violations()).toEqual([]);
  });

  const releasesOf = (tag: string) => rehearsal.gitea.releases().filter((release) => release.tagName === tag);
  const lastLine = (result: Result) => String(result.all).trim().split('\n').at(-1);
  const git = async (root: string, ...args: string[]) => (await execa('git', args, { cwd: root, reject: false })).stdout.trim();
  const originTag = (tag: string) => git(rehearsal.remote, 'rev-parse', '-q', '--verify', `refs/tags/${tag}^{commit}`);
  const requestsMatching = (pattern: RegExp, method = 'POST') => rehearsal.gitea.requests().filter((request) => request.method === method && pattern.test(request.url)).length;
  /** Creates that made a release: the image tasks claim at once, so the ones that lost the race were answered 409 and counted nothing. */
  const releasesCreated = () => rehearsal.gitea.requests().filter((request) => request.method === 'POST' && /\/releases$/.test(request.url) && request.status === 201).length;
  const noteForOperators = async (note: string) => {
    const file = join(rehearsal.workspace.root, 'docker/.env.example');
    await writeFile(file, `${await readFile(file, 'utf8')}# ${note}\n`);
    await rehearsal.workspace.commitAll(`feat(docker): ${note}`);
  };
  const registryDigest = async (repository: string, tag: string) => {
    const accept = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json';
    const answer = await fetch(`${rehearsal.testbed.registry.url}/v2/admin/${repository}/manifests/${tag}`, { method: 'HEAD', headers: { accept } });
    return answer.ok ? answer.headers.get('docker-content-digest') : null;
  };

  /** One public release of `tag`, finished, whose assets are the files `root` packaged, checksummed and signed. */
  async function expectPublishedOnce(tag: string, root: string): Promise<void> {
    const releases = releasesOf(tag);
    expect(releases.map((release) => release.draft)).toEqual([false]);
    const [release] = releases;
    expect(release!.note).not.toContain('publish-release draft');
    const names = [`changemaker-lite-${tag}.tar.gz`, 'changemaker-lite-latest.tar.gz', manifestFileName];
    expect(release!.attachments.map((attachment) => attachment.name).sort()).toEqual([...names, 'SHA256SUMS', 'SHA256SUMS.sig'].sort());
    const asset = (name: string) => release!.attachments.find((attachment) => attachment.name === name)!.bytes;
    for (const attachment of release!.attachments) expect(sha256Hex(attachment.bytes)).toBe(sha256Hex(await readFile(join(root, 'dist/release', attachment.name))));
    for (const name of names) expect(asset('SHA256SUMS').toString()).toContain(`${sha256Hex(asset(name))}  ${name}`);
    const signature = join(root, 'tmp', `${tag}.SHA256SUMS.sig`);
    await mkdir(dirname(signature), { recursive: true });
    await writeFile(signature, asset('SHA256SUMS.sig'));
    const verified = await execa('ssh-keygen', ['-Y', 'verify', '-f', rehearsal.allowedSigners, '-I', signerPrincipal, '-n', signatureNamespace, '-s', signature], { input: asset('SHA256SUMS'), reject: false });
    expect(verified.exitCode).toBe(0);
  }

  it('Ctrl-C during the draft upload: an invisible draft, a last line saying so, and nx release publish finishes it, uploading only what is missing', async () => {
    const run = rehearsal.start(['release', '1.0.0', '--yes']);
    onGiteaRequest = { when: (request) => request.method === 'POST' && request.url.includes('/assets?name=changemaker-lite-v1.0.0.tar.gz'), then: () => signalGroup(run, 'SIGINT') };
    const stopped = await run;
    expect(stopped.exitCode).toBe(130);
    expect(lastLine(stopped)).toBe(
      "v1.0.0: stopped by SIGINT; the release commit and tag are local only (nothing was pushed): finish with npx nx release publish, or abandon with npx nx run docker:abandon-release (its draft, if one was made, tag and release commit)",
    );
    expect(releasesOf('v1.0.0').map((release) => [release.draft, release.attachments.map((attachment) => attachment.name)])).toEqual([[true, ['changemaker-lite-v1.0.0.tar.gz']]]);
    expect(await originTag('v1.0.0')).toBe('');

    const finished = await rehearsal.nx(['release', 'publish']);
    expect(finished.exitCode).toBe(0);
    expect(finished.all).toContain('keep changemaker-lite-v1.0.0.tar.gz');
    await expectPublishedOnce('v1.0.0', rehearsal.workspace.root);
    expect(await originTag('v1.0.0')).toBe(await git(rehearsal.workspace.root, 'rev-parse', 'HEAD'));
    expect(releasesCreated()).toBe(1);
    expect(requestsMatching(/\/assets\?name=changemaker-lite-v1\.0\.0\.tar\.gz$/)).toBe(1);
  }, 300_000);

  it('SIGTERM once the tag is pushed (Gitea published the draft then): the last line says the release is public, to finish and not abandon; nx release publish finishes it', async () => {
    await noteForOperators('the first note for operators');
    const pushed = join(rehearsal.remote, 'post-receive-ran');
    const hook = join(rehearsal.remote, 'hooks/post-receive');
    // Origin has taken the refs; the push is stopped while it waits for origin's last word.
    await writeFile(hook, `#!/bin/sh\ncat >/dev/null\ntouch '${pushed}'\nsleep 5\n`);
    await chmod(hook, 0o755);
    const run = rehearsal.start(['release', '--yes']);
    const watch = setInterval(() => existsSync(pushed) && (clearInterval(watch), signalGroup(run, 'SIGTERM')), 20);
    const stopped = await run.finally(() => clearInterval(watch));
    await rm(hook);
    expect(stopped.exitCode).toBe(143);
    expect(lastLine(stopped)).toBe(
      'v1.1.0: stopped by SIGTERM; the release commit and tag are pushed, so the release is public (Gitea published it when the tag arrived) but not finished: finish it with npx nx release publish; do not abandon it',
    );
    const head = await git(rehearsal.workspace.root, 'rev-parse', 'HEAD');
    expect(await originTag('v1.1.0')).toBe(head);
    const [published] = releasesOf('v1.1.0');
    expect(published).toMatchObject({ draft: false });
    expect(published!.attachments).toHaveLength(5);

    const finished = await rehearsal.nx(['release', 'publish']);
    expect(finished.exitCode).toBe(0);
    await expectPublishedOnce('v1.1.0', rehearsal.workspace.root);
    expect(releasesOf('v1.1.0')[0]!.id).toBe(published!.id);
  }, 300_000);

  it('Ctrl-C before the release commit: the last line names the files nx release wrote and how to put them back; nothing else is left', async () => {
    await noteForOperators('a second note for operators');
    const head = await git(rehearsal.workspace.root, 'rev-parse', 'HEAD');
    const run = rehearsal.start(['release', '--yes']);
    let seen = '';
    run.all.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('New version 1.2.0 written to docker/VERSION')) signalGroup(run, 'SIGINT');
    });
    const stopped = await run;
    expect(stopped.signal).toBe('SIGINT');
    const advice = /^v1\.2\.0: stopped by SIGINT before the release commit: nothing was committed, tagged or pushed, but .+ holds? its edits: put them back with (git restore --source=HEAD --staged --worktree -- [^,]+), then run nx release again$/.exec(lastLine(stopped) ?? '');
    expect(advice).not.toBeNull();
    expect(await git(rehearsal.workspace.root, 'rev-parse', 'HEAD')).toBe(head);
    expect(await git(rehearsal.workspace.root, 'tag', '--list', 'v1.2.0')).toBe('');
    expect(releasesOf('v1.2.0')).toEqual([]);

    await execa('sh', ['-c', advice![1]!], { cwd: rehearsal.workspace.root });
    expect(await git(rehearsal.workspace.root, 'status', '--porcelain', '--untracked-files=no')).toBe('');
  }, 300_000);

  it('two nx release at once, from a laptop and from CI in two clones of one origin: one publishes, the other pushes nothing and says to abandon', async () => {
    // A change both releases build an image for: the loser's would otherwise replace the winner's v1.2.0.
    await makeFeatureChange(rehearsal, 'api');
    await rehearsal.workspace.git('push', '-q', 'origin', 'main');
    const ci = await rehearsal.clone();
    try {
      const ciCommitter = { GIT_AUTHOR_NAME: 'CI', GIT_AUTHOR_EMAIL: 'ci@example.invalid', GIT_COMMITTER_NAME: 'CI', GIT_COMMITTER_EMAIL: 'ci@example.invalid' };
      const [laptop, runner] = await Promise.all([rehearsal.start(['release', '--yes']), ci.nx(['release', '--yes'], { env: ciCommitter })]);
      const runs = [
        { result: laptop, root: rehearsal.workspace.root },
        { result: runner, root: ci.root },
      ];
      expect(runs.map((run) => run.result.exitCode).sort()).toEqual([0, 1]);
      const winner = runs.find((run) => run.result.exitCode === 0)!;
      const loser = runs.find((run) => run !== winner)!;
      const [winnerCommit, loserCommit] = await Promise.all([git(winner.root, 'rev-parse', 'HEAD'), git(loser.root, 'rev-parse', 'HEAD')]);
      expect(loserCommit).not.toBe(winnerCommit);
      expect(lastLine(loser.result)).toMatch(
        new RegExp(`^v1\\.2\\.0: another release commit \\(${winnerCommit.slice(0, 12)}\\) holds this version \\(.+\\): nothing of this one was pushed or published: abandon it with npx nx run docker:abandon-release, then git pull(; or, if nobody is releasing that commit any more, .+)?$`),
      );

      await expectPublishedOnce('v1.2.0', winner.root);
      expect(releasesOf('v1.2.0')[0]!.target).toBe(winnerCommit);
      expect(await originTag('v1.2.0')).toBe(winnerCommit);
      // The registry holds the winner's images under v1.2.0, as its release records them, and nothing of the loser's.
      const manifest = JSON.parse(releasesOf('v1.2.0')[0]!.attachments.find((attachment) => attachment.name === manifestFileName)!.bytes.toString('utf8')) as ReleaseManifest;
      for (const service of ['api', 'media-api', 'admin', 'nginx']) {
        const recorded = manifest.images.find((image) => image.service === service)?.digest;
        expect(await registryDigest(`changemaker-${service}`, 'v1.2.0')).toBe(recorded);
        expect(await registryDigest(`changemaker-${service}`, loserCommit)).toBeNull();
      }
    } finally {
      await ci.remove();
    }
  }, 300_000);

  it("origin's main moving on during the release: nothing public, the last line says to abandon and release again (not nx release publish, which could never push it), and doing so releases", async () => {
    // Whoever lost the race above holds a local v1.2.0: this clone starts from origin again.
    await rehearsal.workspace.git('fetch', '-q', '--tags', '--force', 'origin');
    await rehearsal.workspace.git('reset', '-q', '--hard', 'origin/main');
    await noteForOperators('a third note for operators');
    const colleague = await rehearsal.clone();
    try {
      onGiteaRequest = {
        when: (request) => request.method === 'POST' && request.url.includes('/assets?name='),
        then: () => execSync("git -c user.name=C -c user.email=c@example.invalid commit -q --allow-empty -m 'docs: meanwhile' && git push -q origin main", { cwd: colleague.root }),
      };
      const refused = await rehearsal.nx(['release', '--yes']);
      expect(refused.exitCode).toBe(1);
      expect(refused.all).toContain("git push to origin was refused: origin's main has moved on since the release commit was made");
      const abandon = "abandon it with npx nx run docker:abandon-release (v1.3.0's draft, tag and release commit), then git pull --rebase origin main and run nx release again";
      expect(lastLine(refused)).toBe(`v1.3.0: the release commit and tag are local only (nothing was pushed), and origin's main has moved on since they were made, so nx release publish cannot push them: ${abandon}`);
      expect(releasesOf('v1.3.0').map((release) => release.draft)).toEqual([true]);
      expect(await originTag('v1.3.0')).toBe('');

      // As the line says: the abandon target deletes the draft, the tag and the release commit.
      const abandoned = await rehearsal.nx(['run', 'docker:abandon-release']);
      expect(abandoned.exitCode).toBe(0);
      expect(releasesOf('v1.3.0')).toEqual([]);
      expect(await git(rehearsal.workspace.root, 'tag', '--list', 'v1.3.0')).toBe('');
      await rehearsal.workspace.git('pull', '-q', '--rebase', 'origin', 'main');
      // The abandoned release's images keep their v1.3.0 tags; a plan for the new release commit
      // does not take their digests for its own: its image tasks tag v1.3.0 again first.
      const planned = await rehearsal.nx(['release', '--dry-run', '--yes']);
      expect(planned.exitCode).toBe(0);
      expect(planned.all).toMatch(/api: \S+\/changemaker-api:v1\.3\.0 \(a real run pushes it first: api:nx-release-publish\)/);
      const released = await rehearsal.nx(['release', '--yes']);
      expect(released.exitCode).toBe(0);
      await expectPublishedOnce('v1.3.0', rehearsal.workspace.root);
      expect(await originTag('v1.3.0')).toBe(await git(rehearsal.workspace.root, 'rev-parse', 'HEAD'));
    } finally {
      await colleague.remove();
    }
  }, 300_000);
});
