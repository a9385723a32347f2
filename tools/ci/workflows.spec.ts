import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { findStep, parseWorkflow, readWorkflows, type WorkflowFile } from './workflow-file';
import { lintWorkflow, nxTargetsNamed } from './workflow-lint';
import { readWorkspaceCommands, type WorkspaceCommands } from './workspace-commands';

const workspaceRoot = join(__dirname, '../..');

describe('the Gitea Actions workflows for users (.gitea/workflows)', () => {
  let files: WorkflowFile[];
  let workspace: WorkspaceCommands;

  beforeAll(async () => {
    files = await readWorkflows(workspaceRoot);
    workspace = await readWorkspaceCommands(workspaceRoot, nxTargetsNamed(files));
  }, 120_000);

  const file = (name: string) => {
    const found = files.find((candidate) => candidate.path === `.gitea/workflows/${name}`);
    if (!found) throw new Error(`.gitea/workflows/${name} is missing`);
    return found;
  };

  it('are valid workflows whose secrets stay hidden and whose commands all exist here', () => {
    expect(files.map((candidate) => candidate.path)).toEqual(['.gitea/workflows/images.yml', '.gitea/workflows/release.yml']);
    expect(files.flatMap((candidate) => lintWorkflow(candidate, workspace))).toEqual([]);
  });

  it('have run scripts that pass shellcheck', async () => {
    const scripts = files.flatMap((candidate) =>
      Object.values(candidate.workflow.jobs ?? {}).flatMap((job) => (job.steps ?? []).flatMap((step) => (typeof step.run === 'string' ? [step.run] : []))),
    );
    for (const script of scripts) {
      const result = await execa('shellcheck', ['-s', 'bash', '-'], { input: script, reject: false });
      expect(result.stdout).toBe('');
    }
  });

  it('push every image on each push to main, through the registry lookup, not `nx affected`; rebuild every image weekly and on demand', () => {
    const images = file('images.yml');
    expect(images.workflow.on).toMatchObject({ push: { branches: ['main'] }, schedule: [{ cron: expect.stringMatching(/^\S+ \S+ \* \* \d$/) }] });
    expect(images.workflow.on).toHaveProperty('workflow_dispatch.inputs.rebuild', expect.objectContaining({ type: 'boolean', default: false }));
    const push = findStep(images, 'push-images', 'push');
    expect(push.run).toMatch(/^\s*npx nx run-many -t docker-push --outputStyle=stream --tags='\{sha\}'$/m);
    expect(push.run).toMatch(/^\s*npx nx run-many -t docker-push --outputStyle=stream --tags='\{sha\}' --no-registry-cache$/m);
    expect(push.run).toMatch(/^\s*npx nx run-many -t docker-push --outputStyle=stream --tags=latest$/m);
    expect(push.env).toEqual({
      GITEA_REGISTRY_USER: '${{ secrets.REGISTRY_USER }}',
      GITEA_REGISTRY_PASSWORD: '${{ secrets.REGISTRY_PASSWORD }}',
      ORIGIN_TOKEN: '${{ gitea.token }}',
      GIT_TERMINAL_PROMPT: '0',
      REBUILD: "${{ gitea.event_name == 'schedule' || inputs.rebuild }}",
    });
    expect(workspace.projectsByTarget.get('docker-push')).toEqual(expect.arrayContaining(['api', 'media-api', 'admin', 'nginx']));
  });

  it('push no image of a commit whose image projects fail their own checks: every image project that has one runs it first, given no secret or token', () => {
    const images = file('images.yml');
    const steps = images.workflow.jobs?.['push-images'].steps ?? [];
    const gate = findStep(images, 'push-images', 'test');
    const push = findStep(images, 'push-images', 'push');
    expect(steps.indexOf(gate)).toBeLessThan(steps.indexOf(push));
    // A failed step ends the job only if nothing after it asks to run anyway.
    for (const step of steps.slice(steps.indexOf(gate))) {
      expect(step).not.toHaveProperty('if');
      expect(step).not.toHaveProperty('continue-on-error');
    }
    expect(gate.env).toBeUndefined();
    expect(JSON.stringify([images.workflow.env, images.workflow.jobs?.['push-images'].env])).not.toMatch(/\bsecrets\.|\.token\b/);
    // The job's token, which git needs to ask origin for main, is not left in .git/config for this step either.
    expect(steps[0]).toMatchObject({ uses: expect.stringMatching(/^actions\/checkout@/), with: { 'persist-credentials': false } });

    const [, targetList, projectList] = /^npx nx run-many -t (\S+) --projects=(\S+) --outputStyle=stream$/.exec(gate.run?.trim() ?? '') ?? [];
    const [targets, projects] = [targetList?.split(',') ?? [], projectList?.split(',') ?? []];
    expect(targets).toEqual(['typecheck', 'test']);
    const imageProjects = workspace.projectsByTarget.get('docker-push') ?? [];
    const checked = imageProjects.filter((project) => targets.some((target) => workspace.projectsByTarget.get(target)?.includes(project)));
    expect([...projects].sort()).toEqual([...checked].sort());
    expect(checked).toEqual(expect.arrayContaining(['admin', 'api', 'media-api']));
  });

  it('run nx release on dispatch with the full history, a token that can push, and a dry-run choice', () => {
    const release = file('release.yml');
    expect(Object.keys(release.workflow.on as object)).toEqual(['workflow_dispatch']);
    const checkout = release.workflow.jobs?.release.steps?.[0];
    expect(checkout?.uses).toMatch(/^actions\/checkout@/);
    expect(checkout?.with).toMatchObject({ 'fetch-depth': 0, token: '${{ secrets.RELEASE_TOKEN || gitea.token }}', 'persist-credentials': false });
    const step = findStep(release, 'release', 'release');
    expect(step.run).toContain('npx nx release ${SPECIFIER:+"$SPECIFIER"} --yes');
    expect(step.run).toContain('npx nx release ${SPECIFIER:+"$SPECIFIER"} --dry-run --yes');
    expect(step.env).toMatchObject({ GITEA_REGISTRY_API_TOKEN: '${{ secrets.RELEASE_TOKEN }}', RELEASE_SIGNING_KEY: '${{ secrets.RELEASE_SIGNING_KEY }}', SPECIFIER: '${{ inputs.specifier }}' });
    // A real release needs the key (servers refuse an unsigned one); a dry run goes on without it and says so.
    expect(step.run).toMatch(/--dry-run --yes\n\s+exit\n[\s\S]*: "\$\{RELEASE_SIGNING_KEY:\?add the repository secret RELEASE_SIGNING_KEY: [^"]+\}"\n(?:\s*#.*\n)*\s*npx nx release \$\{SPECIFIER/);
    expect(release.workflow.env).toMatchObject({ GITEA_URL: '${{ gitea.server_url }}', GITEA_REPO: '${{ gitea.repository }}' });
  });

  it.each([
    ['release.yml', 'RELEASE_TOKEN', 'release', 'release', 'GITEA_REGISTRY_API_TOKEN'],
    ['images.yml', 'the job\'s token', 'push-images', 'push', 'ORIGIN_TOKEN'],
  ])('%s: let git reach origin with %s from the step\'s environment only: nothing in .git/config holds it', async (name, _token, jobId, stepId, variable) => {
    const job = file(name).workflow.jobs?.[jobId];
    expect(findStep(file(name), jobId, stepId).env).toHaveProperty(variable);
    const dir = await mkdtemp(join(tmpdir(), 'cm-origin-credentials-'));
    try {
      await execa('git', ['init', '-q', dir]);
      const setup = job?.steps?.find((step) => /credential\.helper/.test(step.run ?? ''))?.run ?? '';
      await execa('bash', ['-eo', 'pipefail', '-c', setup], { cwd: dir });
      const fill = (env: Record<string, string>) =>
        execa('git', ['credential', 'fill'], { cwd: dir, input: 'protocol=https\nhost=gitea.example.invalid\n\n', env: { ...env, GIT_TERMINAL_PROMPT: '0', PATH: process.env['PATH'] ?? '' }, extendEnv: false, reject: false });
      expect((await fill({ [variable]: 'tok-origin-5e1f' })).stdout).toContain('password=tok-origin-5e1f');
      expect((await fill({})).exitCode).not.toBe(0);
      expect(await readFile(join(dir, '.git/config'), 'utf8')).not.toContain('tok-origin-5e1f');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  /** The release step's script as the runner runs it, with an `npx` on PATH that records its arguments, runs nothing and exits with NPX_STATUS. */
  async function runReleaseStep(env: Record<string, string>): Promise<{ exitCode: number | undefined; stderr: string; npxCalls: string[][] }> {
    const script = findStep(file('release.yml'), 'release', 'release').run ?? '';
    const dir = await mkdtemp(join(tmpdir(), 'cm-release-step-'));
    try {
      await writeFile(join(dir, 'npx'), '#!/bin/sh\nprintf \'%s\\n\' "$@" >> "$NPX_CALLS"; echo --- >> "$NPX_CALLS"; exit "${NPX_STATUS:-0}"\n', { mode: 0o755 });
      const calls = join(dir, 'calls');
      const result = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
        env: { PATH: `${dir}:${process.env['PATH'] ?? ''}`, NPX_CALLS: calls, GITEA_REGISTRY: '127.0.0.1:9/admin', ...env },
        extendEnv: false,
        reject: false,
      });
      const recorded = await readFile(calls, 'utf8').catch(() => '');
      const npxCalls = recorded.split('---\n').filter((call) => call !== '').map((call) => call.trimEnd().split('\n'));
      return { exitCode: result.exitCode, stderr: result.stderr, npxCalls };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it.each([['1.2.3; rm -rf /'], ['--skip-publish'], ['-h'], ['minor\n--skip-publish'], ['v1.2.3 --first-release'], ['1.2']])(
    'release.yml refuses the specifier %j in one line before nx release runs: it would be an option, or no version',
    async (specifier) => {
      const run = await runReleaseStep({ SPECIFIER: specifier, DRY_RUN: 'true' });
      expect(run.exitCode).toBe(1);
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^nothing was released: the specifier is not a version or a bump; give a version \(1\.2\.0 or v1\.2\.0\), one of major, /)]);
      expect(run.npxCalls).toEqual([]);
    },
  );

  it.each([['True'], ['yes'], ['']])('release.yml refuses dry_run %j, which is neither true nor false, before nx release runs: a dry run meant must not release', async (dryRun) => {
    const run = await runReleaseStep({ SPECIFIER: '', DRY_RUN: dryRun });
    expect(run.exitCode).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual(['nothing was released: dry_run is neither true nor false; dispatch again with dry_run set to true or false']);
    expect(run.npxCalls).toEqual([]);
  });

  it.each([
    ['', ['nx', 'release', '--dry-run', '--yes']],
    ['minor', ['nx', 'release', 'minor', '--dry-run', '--yes']],
    ['v1.2.0', ['nx', 'release', 'v1.2.0', '--dry-run', '--yes']],
    ['2.0.0-rc.1', ['nx', 'release', '2.0.0-rc.1', '--dry-run', '--yes']],
  ])('release.yml hands the specifier %j to nx release as one argument', async (specifier, args) => {
    const run = await runReleaseStep({ SPECIFIER: specifier, DRY_RUN: 'true' });
    expect(run.stderr).toBe('');
    expect(run.npxCalls).toEqual([args]);
  });

  it.each([[1], [143]])('release.yml: a release that fails (exit %d) keeps its status and ends saying what to do, since the clone with its commit and tag goes with the runner', async (status) => {
    const secrets = { GITEA_REGISTRY_USER: 'ci-bot', GITEA_REGISTRY_PASSWORD: 'pw-6d1e', GITEA_REGISTRY_API_TOKEN: 'tok-6d1e', RELEASE_SIGNING_KEY: 'key-6d1e' };
    const run = await runReleaseStep({ SPECIFIER: 'minor', DRY_RUN: 'false', NPX_STATUS: String(status), ...secrets });
    expect(run.npxCalls).toEqual([['nx', 'release', 'minor', '--yes']]);
    expect(run.exitCode).toBe(status);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^this runner's clone, .* is gone with the job: if the line above says nothing was pushed, delete the version's draft .* and run Release again; if the tag was pushed, finish with npx nx release publish in a clone checked out at the tag$/)]);
    expect(run.stderr).not.toMatch(/6d1e/);
  });

  it('stop with one line saying what to set when a setting or secret is missing, without printing a value', async () => {
    const script = findStep(file('images.yml'), 'push-images', 'push').run ?? '';
    const result = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
      env: { GITEA_REGISTRY: '127.0.0.1:9/admin', GITEA_REGISTRY_USER: 'ci-bot', GITEA_REGISTRY_PASSWORD: '' },
      extendEnv: false,
      reject: false,
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/GITEA_REGISTRY_PASSWORD: add the repository secret REGISTRY_PASSWORD: a token of REGISTRY_USER with the write:package scope$/)]);
  });
});

/** The checks above pass only because the files are right: each broken workflow here is caught. */
describe('lintWorkflow', () => {
  const workspace: WorkspaceCommands = {
    npmScripts: new Set(['test', 'demo']),
    projectsByTarget: new Map([['docker-push', ['api']], ['test', ['api']]]),
    nxReleaseOptions: new Set(['yes', 'y', 'dry-run', 'd']),
  };
  const lint = (text: string) => lintWorkflow(parseWorkflow('w.yml', text), workspace);
  const checkout = 'actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0';
  /** A workflow that passes every check but the one a case breaks: `head` replaces its top, `job` its job keys. */
  const workflowRunning = (run: string, env = '', { head = 'on: push\npermissions: { contents: read }\nconcurrency: { group: w, cancel-in-progress: false }\n', job = '    timeout-minutes: 30\n', checkoutWith = '{ fetch-depth: 0 }' } = {}) =>
    `${head}jobs:\n  j:\n    runs-on: ubuntu-latest\n${job}    steps:\n      - uses: ${checkout}\n        with: ${checkoutWith}\n      - ${env}run: |\n${run.replace(/^/gm, '          ')}\n`;
  const dispatched = (inputs: string) =>
    `on:\n  workflow_dispatch:\n    inputs:\n${inputs}permissions: { contents: read }\nconcurrency: { group: w, cancel-in-progress: false }\n`;
  const specifierInput = '      specifier: { description: S, type: string }\n';

  it('passes a good workflow', () => {
    expect(lint(workflowRunning('npm ci\nnpx nx affected -t test --base=origin/main~1\nnpm test\nnpx nx run api:docker-push\nnpx nx release minor --dry-run --yes'))).toEqual([]);
    expect(lint(workflowRunning('npx nx release publish', '', { checkoutWith: '{ fetch-depth: 1 }' }))).toEqual([]);
    expect(lint(workflowRunning('commit=$(git rev-parse HEAD)\nif ! main=$(git ls-remote origin main); then exit 1; fi\nnpx nx run-many -t docker-push --projects=api'))).toEqual([]);
  });

  it('passes a dispatch input matched against a pattern on the first line that uses it, and a boolean one unchecked', () => {
    const inputs = `${specifierInput}      dry: { description: D, type: boolean }\n`;
    const env = 'env: { S: "${{ inputs.specifier }}", D: "${{ inputs.dry }}" }\n        ';
    const head = dispatched(inputs);
    expect(lint(workflowRunning('# $S is checked first\nif ! [[ "$S" =~ ^[0-9]+$ ]]; then exit 1; fi\n[ "$D" = true ] && npx nx release "$S" --dry-run', env, { head }))).toEqual([]);
  });

  it.each([
    ['a duplicate key', 'on: push\non: push\njobs: {}\n', /Map keys must be unique/],
    ['no trigger', 'jobs:\n  j:\n    runs-on: x\n    steps:\n      - run: npm ci\n', /no `on:`/],
    ['a misspelt step key', 'on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - runs: npm ci\n', /unknown key "runs"/],
    ['a step with both uses and run', 'on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n        run: npm ci\n', /exactly one/],
    ['an unpinned action', 'on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - uses: actions/checkout\n', /is not pinned/],
    ['a job with no runner', 'on: push\njobs:\n  j:\n    steps:\n      - run: npm ci\n', /no `runs-on:`/],
    ['a trigger that runs a fork\'s pull request with secrets', workflowRunning('npm ci', '', { head: 'on: [push, pull_request_target]\npermissions: {}\nconcurrency: { group: w }\n' }), /on\.pull_request_target: runs with the repository's secrets/],
    ['a trigger on another workflow\'s run, with secrets', workflowRunning('npm ci', '', { head: 'on:\n  workflow_run: { workflows: [x] }\npermissions: {}\nconcurrency: { group: w }\n' }), /on\.workflow_run: runs with the repository's secrets/],
    ['an unknown event', 'on: pushh\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: npm ci\n', /on\.pushh: not an event/],
    ['an undeclared input', 'on:\n  workflow_dispatch:\n    inputs:\n      a: { description: A, type: string }\njobs:\n  j:\n    runs-on: x\n    steps:\n      - env: { B: "${{ inputs.b }}" }\n        run: npm ci\n', /inputs\.b is not a workflow_dispatch input/],
    ['an expression in a script', workflowRunning('npx nx release ${{ inputs.specifier }} --yes'), /\$\{\{ … \}\} in a script/],
    ['a secret for the whole job', 'on: push\njobs:\n  j:\n    runs-on: x\n    env: { P: "${{ secrets.P }}" }\n    steps:\n      - run: npm ci\n', /a secret outside a step's env: or with:/],
    ['an echoed secret', workflowRunning('echo "$P"', 'env: { P: "${{ secrets.P }}" }\n        '), /expands the secret P/],
    ['a secret in an argument', workflowRunning('git clone "https://bot:${P}@example.invalid/x"', 'env: { P: "${{ secrets.P }}" }\n        '), /expands the secret P/],
    ['set -x', workflowRunning('set -x\nnpm ci'), /set -x prints every command/],
    ['an environment dump', workflowRunning('printenv'), /prints the environment/],
    ['an unknown npm script', workflowRunning('npm run nope'), /package.json has no script "nope"/],
    ['an unknown target', workflowRunning('npx nx affected -t docker-pushh'), /no project has a target "docker-pushh"/],
    ['a project without the target', workflowRunning('npx nx run admin:docker-push'), /project "admin" has no target "docker-push"/],
    ['an unknown nx release option', workflowRunning('npx nx release --dryrun'), /nx release has no option --dryrun/],
    ['a checkout that leaves its secret token in .git/config', 'on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n        with: { token: "${{ secrets.T }}" }\n', /persist-credentials: false/],
    ['a tool the runner may lack', workflowRunning('docker login -u bot gitea.example.org'), /"docker" is not a command/],
    ['a tool the runner may lack, run for its output', workflowRunning('tip="$(curl -s https://gitea.example.invalid/main)"'), /"curl" is not a command/],
    ['a project that has none of the targets, for which nx runs nothing and exits 0', workflowRunning('npx nx run-many -t docker-push --projects=api,apii'), /project "apii" has none of the targets docker-push/],
    ['an action pinned to a tag, which can be moved', workflowRunning('npm ci').replace(checkout, 'actions/checkout@v4'), /uses "actions\/checkout@v4" is not pinned/],
    ['an action pinned to a short commit', workflowRunning('npm ci').replace(checkout, 'actions/checkout@11d5960'), /is not pinned/],
    ['a pinned action that names no version', workflowRunning('npm ci').replace(' # v4.4.0', ''), /line 9: uses actions\/checkout@11d5960a\w+ names no version/],
    ['no permissions, so the token gets the default', workflowRunning('npm ci', '', { head: 'on: push\nconcurrency: { group: w }\n' }), /no `permissions:`/],
    ['a token that may write everywhere', workflowRunning('npm ci', '', { job: '    timeout-minutes: 30\n    permissions: write-all\n' }), /jobs\.j: `permissions: write-all`/],
    ['no concurrency group, so two runs race', workflowRunning('npm ci', '', { head: 'on: push\npermissions: { contents: read }\n' }), /no `concurrency:` group/],
    ['a concurrency group that differs per run', workflowRunning('npm ci', '', { head: 'on: push\npermissions: {}\nconcurrency: { group: "w-${{ github.run_id }}" }\n' }), /serialises nothing/],
    ['a release that a newer run cancels part-way', workflowRunning('npx nx release --yes', '', { head: 'on: push\npermissions: {}\nconcurrency: { group: w, cancel-in-progress: true }\n' }), /must not cancel a run part-way/],
    ['a job with no timeout', workflowRunning('npm ci', '', { job: '' }), /jobs\.j: `timeout-minutes:` must be a whole number from 1 to 180 \(it is not set\)/],
    ['a job with a timeout past the runner\'s own', workflowRunning('npm ci', '', { job: '    timeout-minutes: 600\n' }), /\(it is 600\)/],
    ['a dispatch input used unchecked', workflowRunning('npx nx release "$S" --yes', 'env: { S: "${{ inputs.specifier }}" }\n        ', { head: dispatched(specifierInput) }), /the dispatch input specifier is used as \$S before it is checked/],
    ['a dispatch input checked after its first use', workflowRunning('npx nx release ${S:+"$S"}\n[[ "$S" =~ ^[0-9.]+$ ]]', 'env: { S: "${{ github.event.inputs.specifier }}" }\n        ', { head: dispatched(specifierInput) }), /input specifier is used as \$S before/],
    ['images pushed with nx affected', workflowRunning('npx nx affected -t docker-push --base=origin/main~1'), /skips the image of a change whose own run failed/],
    ['nx affected without a base, which on main runs nothing', workflowRunning('npx nx affected -t test'), /runs nothing and exits 0/],
    ['nx affected in a shallow checkout', workflowRunning('npx nx affected -t test --base=HEAD~1', '', { checkoutWith: '{ fetch-depth: 1 }' }), /shallow checkout lacks/],
    ['nx release in a shallow checkout', workflowRunning('npx nx release --yes', '', { checkoutWith: '{ fetch-depth: 1 }' }), /nx release needs the history since the last release and its tags, which a shallow checkout lacks/],
    ['nx affected from event.before, all zeros on a new branch', workflowRunning('npx nx affected -t test --base="$B"', 'env: { B: "${{ github.event.before }}" }\n        '), /all zeros on a new branch/],
  ])('finds %s', (_name, text, finding) => {
    expect(lint(text)).toContainEqual(expect.stringMatching(finding));
  });

  it('lets a script test that a secret is set, which prints the message and not the value', () => {
    const env = 'env: { P: "${{ secrets.P }}" }\n        ';
    expect(lint(workflowRunning(': "${P:?add the secret P}"\n[ -n "$P" ]\nnpm ci', env))).toEqual([]);
  });
});
