import { mkdtemp, readFile, rm } from 'node:fs/promises';
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
    expect(step.run).toMatch(/--dry-run --yes\n\s+exit\n[\s\S]*: "\$\{RELEASE_SIGNING_KEY:\?add the repository secret RELEASE_SIGNING_KEY: [^"]+\}"\n\s*npx nx release \$\{SPECIFIER/);
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
    projectsByTarget: new Map([['docker-push', ['api']]]),
    nxReleaseOptions: new Set(['yes', 'y', 'dry-run', 'd']),
  };
  const lint = (text: string) => lintWorkflow(parseWorkflow('w.yml', text), workspace);
  const workflowRunning = (run: string, env = '') =>
    `on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - ${env}run: |\n${run.replace(/^/gm, '          ')}\n`;

  it('passes a good workflow', () => {
    expect(lint(workflowRunning('npm ci\nnpx nx affected -t docker-push\nnpm test\nnpx nx run api:docker-push\nnpx nx release minor --dry-run --yes'))).toEqual([]);
    expect(lint(workflowRunning('commit=$(git rev-parse HEAD)\nif ! main=$(git ls-remote origin main); then exit 1; fi\nnpx nx run-many -t docker-push --projects=api'))).toEqual([]);
  });

  it.each([
    ['a duplicate key', 'on: push\non: push\njobs: {}\n', /Map keys must be unique/],
    ['no trigger', 'jobs:\n  j:\n    runs-on: x\n    steps:\n      - run: npm ci\n', /no `on:`/],
    ['a misspelt step key', 'on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - runs: npm ci\n', /unknown key "runs"/],
    ['a step with both uses and run', 'on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n        run: npm ci\n', /exactly one/],
    ['an unpinned action', 'on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - uses: actions/checkout\n', /not owner\/name@version/],
    ['a job with no runner', 'on: push\njobs:\n  j:\n    steps:\n      - run: npm ci\n', /no `runs-on:`/],
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
  ])('finds %s', (_name, text, finding) => {
    expect(lint(text)).toContainEqual(expect.stringMatching(finding));
  });

  it('lets a script test that a secret is set, which prints the message and not the value', () => {
    const env = 'env: { P: "${{ secrets.P }}" }\n        ';
    expect(lint(workflowRunning(': "${P:?add the secret P}"\n[ -n "$P" ]\nnpm ci', env))).toEqual([]);
  });
});
