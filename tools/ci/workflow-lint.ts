import { shellCommands } from './shell-commands';
import { isRecord, type Workflow, type WorkflowFile, type WorkflowStep } from './workflow-file';
import type { WorkspaceCommands } from './workspace-commands';

/**
 * Checks of Gitea / GitHub Actions workflow files: their structure (the keys Gitea's parser
 * knows, so a typo such as `step:` or `with` on a run step is caught here and not on the server),
 * that secrets reach only the steps that use them and never a log or an argument, and that every
 * command a step runs exists in this workspace. Each finding is one line naming the file and place.
 */
export function lintWorkflow(file: WorkflowFile, workspace: WorkspaceCommands): string[] {
  if (file.yamlErrors.length > 0) return file.yamlErrors.map((error) => `${file.path}: ${error}`);
  return [
    ...structureFindings(file.workflow),
    ...expressionFindings(file.workflow),
    ...secretExposureFindings(file.workflow),
    ...persistedTokenFindings(file.workflow),
    ...pinnedVersionFindings(file.text),
    ...permissionFindings(file.workflow),
    ...concurrencyFindings(file.workflow),
    ...timeoutFindings(file.workflow),
    ...uncheckedInputFindings(file.workflow),
    ...affectedFindings(file.workflow),
    ...releaseHistoryFindings(file.workflow),
    ...missingCommandFindings(file.workflow, workspace),
  ].map((finding) => `${file.path} ${finding}`);
}

/** The Nx targets the workflows' commands run, for `readWorkspaceCommands`. */
export function nxTargetsNamed(files: readonly WorkflowFile[]): string[] {
  const targets = files.flatMap((file) => runSteps(file.workflow).flatMap(({ step }) => shellCommands(step.run ?? '').flatMap(nxTargetsOf)));
  return [...new Set(targets)].sort();
}

const workflowKeys = ['name', 'run-name', 'on', 'env', 'defaults', 'concurrency', 'permissions', 'jobs'];
const jobKeys = ['name', 'runs-on', 'needs', 'if', 'env', 'steps', 'defaults', 'timeout-minutes', 'strategy', 'container', 'services', 'outputs', 'continue-on-error', 'concurrency', 'permissions'];
const stepKeys = ['id', 'name', 'if', 'uses', 'run', 'with', 'env', 'shell', 'working-directory', 'continue-on-error', 'timeout-minutes'];
const events = ['push', 'pull_request', 'pull_request_target', 'workflow_dispatch', 'schedule', 'release', 'create', 'delete', 'issues', 'issue_comment', 'workflow_run'];
const inputTypes = ['string', 'boolean', 'choice', 'number'];
const privilegedForkEvents = ['pull_request_target', 'workflow_run'];

function structureFindings(workflow: Workflow): string[] {
  const findings = unknownKeys('(top level)', workflow, workflowKeys);
  if (workflow.on === undefined) findings.push('(top level): no `on:`, so nothing starts the workflow');
  findings.push(...eventFindings(workflow.on));
  const jobs = workflow.jobs;
  if (!isRecord(jobs) || Object.keys(jobs).length === 0) return [...findings, '(top level): `jobs:` is missing or empty'];
  for (const [jobId, job] of Object.entries(jobs)) {
    const where = `jobs.${jobId}`;
    if (!isRecord(job)) {
      findings.push(`${where}: a job must be a mapping`);
      continue;
    }
    findings.push(...unknownKeys(where, job, jobKeys));
    if (job['runs-on'] === undefined) findings.push(`${where}: no \`runs-on:\`, so no runner takes the job`);
    if (!Array.isArray(job.steps) || job.steps.length === 0) {
      findings.push(`${where}: \`steps:\` is missing or empty`);
      continue;
    }
    job.steps.forEach((step, index) => findings.push(...stepFindings(`${where}.steps[${index}]`, step)));
  }
  return findings;
}

function eventFindings(on: unknown): string[] {
  const names = typeof on === 'string' ? [on] : Array.isArray(on) ? on.map(String) : isRecord(on) ? Object.keys(on) : [];
  const findings = names.filter((name) => !events.includes(name)).map((name) => `on.${name}: not an event this check knows (${events.join(', ')})`);
  // These run with the repository's secrets on behalf of a pull request, whose code (a fork's)
  // a checkout of its head would then run: the registry and release secrets here must never be.
  for (const name of names.filter((candidate) => privilegedForkEvents.includes(candidate))) {
    findings.push(`on.${name}: runs with the repository's secrets for a pull request's code; test pull requests with pull_request, which gets no secrets`);
  }
  const dispatch = isRecord(on) ? on.workflow_dispatch : undefined;
  const inputs = isRecord(dispatch) && isRecord(dispatch.inputs) ? dispatch.inputs : {};
  for (const [name, input] of Object.entries(inputs)) {
    const where = `on.workflow_dispatch.inputs.${name}`;
    if (!isRecord(input) || typeof input.description !== 'string') findings.push(`${where}: give it a description (the dispatch form shows it)`);
    else if (input.type !== undefined && !inputTypes.includes(String(input.type))) findings.push(`${where}: type "${String(input.type)}" is not one of ${inputTypes.join(', ')}`);
  }
  return findings;
}

function stepFindings(where: string, step: unknown): string[] {
  if (!isRecord(step)) return [`${where}: a step must be a mapping`];
  const findings = unknownKeys(where, step, stepKeys);
  const { uses, run } = step as WorkflowStep;
  if ((uses === undefined) === (run === undefined)) findings.push(`${where}: a step has either \`uses:\` or \`run:\`, exactly one`);
  if (uses !== undefined && !isPinned(String(uses))) {
    findings.push(`${where}: uses "${String(uses)}" is not pinned: write owner/name@<the version's full 40-character commit> # <version>; a tag or branch can be moved to other code by whoever holds the action's repository`);
  }
  if (run !== undefined && step.with !== undefined) findings.push(`${where}: \`with:\` is for actions; a run step takes its values from \`env:\``);
  if (run !== undefined && typeof run !== 'string') findings.push(`${where}: \`run:\` must be a script`);
  return findings;
}

/** A local action, or one whose code is fixed: a commit, or an image digest. */
function isPinned(uses: string): boolean {
  return uses.startsWith('./') || /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(uses) || /^docker:\/\/\S+@sha256:[0-9a-f]{64}$/.test(uses);
}

/** A pinned commit says nothing to a reader or to whoever updates it: the line names its version. */
function pinnedVersionFindings(text: string): string[] {
  return text.split('\n').flatMap((line, index) => {
    const pinned = /^\s*(?:-\s+)?uses:\s*['"]?([^\s'"#]+@[0-9a-f]{40})['"]?\s*(#.*)?$/.exec(line);
    if (!pinned || /^#\s*v?\d+(\.\d+)*\b/.test(pinned[2] ?? '')) return [];
    return [`line ${index + 1}: uses ${pinned[1]} names no version; add "# vX.Y.Z", the tag that commit is`];
  });
}

function unknownKeys(where: string, mapping: Record<string, unknown>, known: readonly string[]): string[] {
  return Object.keys(mapping)
    .filter((key) => !known.includes(key))
    .map((key) => `${where}: unknown key "${key}" (known: ${known.join(', ')})`);
}

/**
 * `${{ … }}` in a script is pasted into it before the shell runs: a dispatch input can inject
 * commands, a secret lands in the script file. Values go through `env:` instead. Secrets go to the
 * steps that use them only, so `npm ci`'s install scripts never see them.
 */
function expressionFindings(workflow: Workflow): string[] {
  const declaredInputs = dispatchInputs(workflow);
  return stringsWithin(workflow, []).flatMap(({ path, value }) => {
    const where = path.join('.');
    const expressions = [...value.matchAll(/\$\{\{(.*?)\}\}/gs)].map((match) => match[1]);
    const findings: string[] = [];
    if (path.at(-1) === 'run' && expressions.length > 0) findings.push(`${where}: \${{ … }} in a script; pass the value through the step's env: and use "$NAME"`);
    if (expressions.some((expression) => /\bsecrets\./.test(expression)) && !isStepEnvOrWith(path)) {
      findings.push(`${where}: a secret outside a step's env: or with:; give it only to the step that uses it`);
    }
    for (const [, input] of expressions.flatMap((expression) => [...expression.matchAll(/\binputs\.([\w-]+)/g)])) {
      if (!declaredInputs.includes(input)) findings.push(`${where}: inputs.${input} is not a workflow_dispatch input`);
    }
    return findings;
  });
}

function isStepEnvOrWith(path: readonly string[]): boolean {
  return path.length === 6 && path[0] === 'jobs' && path[2] === 'steps' && (path[4] === 'env' || path[4] === 'with');
}

function dispatchInputs(workflow: Workflow): string[] {
  const dispatch = isRecord(workflow.on) ? workflow.on.workflow_dispatch : undefined;
  return isRecord(dispatch) && isRecord(dispatch.inputs) ? Object.keys(dispatch.inputs) : [];
}

function stringsWithin(value: unknown, path: string[]): { path: string[]; value: string }[] {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((item, index) => stringsWithin(item, [...path, String(index)]));
  if (isRecord(value)) return Object.entries(value).flatMap(([key, item]) => stringsWithin(item, [...path, key]));
  return [];
}

/**
 * A step's script may test that a secret is set (`: "${NAME:?what to do}"`, `[ -n "$NAME" ]`),
 * which prints the message and never the value, and otherwise leaves it to the tools that read
 * it from the environment: a script that expands it puts it in a command's arguments or the log.
 */
function secretExposureFindings(workflow: Workflow): string[] {
  return runSteps(workflow).flatMap(({ where, step }) => {
    const script = step.run ?? '';
    const findings: string[] = [];
    if (/\bset\s+(-\w*x|-o\s+xtrace)/.test(script)) findings.push(`${where}.run: set -x prints every command with its expanded values`);
    for (const command of shellCommands(script)) {
      if (['env', 'printenv'].includes(command[0]) || (['export', 'declare'].includes(command[0]) && command[1] === '-p')) {
        findings.push(`${where}.run: \`${command.join(' ')}\` prints the environment, secrets included`);
      }
    }
    for (const name of secretEnvNames(step)) {
      const uses = [...script.matchAll(new RegExp(`\\$\\{?${name}\\b[^}\\s"]*`, 'g'))].map((match) => match[0]);
      const exposing = uses.filter((use) => !use.startsWith(`\${${name}:?`) && !isEmptinessTest(script, use));
      if (exposing.length > 0) findings.push(`${where}.run: expands the secret ${name}; leave it in the environment for the tool that reads it`);
    }
    return findings;
  });
}

/**
 * actions/checkout writes the token it is given into .git/config for every later step, where any
 * program (npm ci's install scripts too) can read it, unless told not to.
 */
function persistedTokenFindings(workflow: Workflow): string[] {
  return Object.entries(workflow.jobs ?? {}).flatMap(([jobId, job]) =>
    (Array.isArray(job.steps) ? job.steps : []).flatMap((step, index) => {
      const given = isRecord(step) && /^actions\/checkout@/.test(String(step.uses)) && isRecord(step.with) ? step.with : undefined;
      const secretToken = typeof given?.['token'] === 'string' && /\bsecrets\./.test(given['token']);
      if (!secretToken || given?.['persist-credentials'] === false) return [];
      return [`jobs.${jobId}.steps[${index}]: actions/checkout keeps its secret token in .git/config for every later step; set persist-credentials: false and give git the token only where it pushes`];
    }),
  );
}

function isEmptinessTest(script: string, use: string): boolean {
  const escaped = use.replace(/[$()*+.?[\\\]^{|}]/g, '\\$&');
  return new RegExp(`\\[\\s+-[nz]\\s+"${escaped}}?"\\s+\\]`).test(script);
}

function secretEnvNames(step: WorkflowStep): string[] {
  return Object.entries(step.env ?? {})
    .filter(([, value]) => typeof value === 'string' && /\$\{\{[^}]*\bsecrets\./.test(value))
    .map(([name]) => name);
}

function runSteps(workflow: Workflow): { where: string; step: WorkflowStep }[] {
  return Object.entries(workflow.jobs ?? {}).flatMap(([jobId, job]) =>
    (Array.isArray(job.steps) ? job.steps : [])
      .map((step, index) => ({ where: `jobs.${jobId}.steps[${index}]`, step }))
      .filter(({ step }) => isRecord(step) && typeof step.run === 'string'),
  );
}

/**
 * Without `permissions:` the job's token gets the server's default, which may write to the
 * repository (Gitea's own default does). Each workflow names what its token needs.
 */
function permissionFindings(workflow: Workflow): string[] {
  const jobs = Object.entries(workflow.jobs ?? {}).filter(([, job]) => isRecord(job));
  const findings: string[] = [];
  if (workflow.permissions === undefined && jobs.some(([, job]) => job.permissions === undefined)) {
    findings.push('(top level): no `permissions:`, so the job token gets the server\'s default, which may write; name what it needs, e.g. `permissions: { contents: read }`');
  }
  const declared: [string, unknown][] = [['(top level)', workflow.permissions], ...jobs.map(([jobId, job]): [string, unknown] => [`jobs.${jobId}`, job.permissions])];
  for (const [where, permissions] of declared) {
    if (permissions === 'write-all') findings.push(`${where}: \`permissions: write-all\` lets the job token write everywhere; name the scopes the job needs`);
  }
  return findings;
}

/**
 * Runs of one workflow must not overlap where they write the same things (tags, a release): each
 * workflow names a concurrency group that is the same for every run (one with the run's id or
 * commit in it groups nothing). A release is never cancelled part-way: it would stop between its
 * commit, its images and its Gitea release.
 */
function concurrencyFindings(workflow: Workflow): string[] {
  const concurrency = workflow.concurrency;
  const group = typeof concurrency === 'string' ? concurrency : isRecord(concurrency) ? concurrency.group : undefined;
  if (typeof group !== 'string' || group.trim() === '') {
    return ['(top level): no `concurrency:` group, so two runs (two pushes, two dispatches) run at once and race on the same tags; add `concurrency: { group: <name>, cancel-in-progress: false }`'];
  }
  const findings: string[] = [];
  if (/\b(run_id|run_number|run_attempt|sha)\b/.test(group)) findings.push(`concurrency.group: "${group}" differs from run to run, so it serialises nothing; name the workflow or the branch`);
  const cancels = isRecord(concurrency) ? concurrency['cancel-in-progress'] : undefined;
  const releases = runSteps(workflow).some(({ step }) => shellCommands(step.run ?? '').some((command) => command[0] === 'npx' && command[1] === 'nx' && command[2] === 'release'));
  if (releases && cancels !== undefined && cancels !== false) {
    findings.push('concurrency.cancel-in-progress: a workflow that runs nx release must not cancel a run part-way (it would stop between the release commit, the images and the Gitea release); set it to false');
  }
  return findings;
}

/** The runner's own limit (act_runner: 3 hours) is a long wait for a hung registry: each job says how long it may take. */
const longestJobMinutes = 180;

function timeoutFindings(workflow: Workflow): string[] {
  return Object.entries(workflow.jobs ?? {}).flatMap(([jobId, job]) => {
    const minutes = isRecord(job) ? job['timeout-minutes'] : undefined;
    if (typeof minutes === 'number' && Number.isInteger(minutes) && minutes > 0 && minutes <= longestJobMinutes) return [];
    return [`jobs.${jobId}: \`timeout-minutes:\` must be a whole number from 1 to ${longestJobMinutes} (it is ${JSON.stringify(minutes) ?? 'not set'}), so a hung job fails with a clear end instead of holding the runner`];
  });
}

/**
 * A dispatch input passed through `env:` cannot inject shell, but its value still reaches the
 * command: one that starts with "-" is an option (`nx release --skip-publish`), and anyone who can
 * dispatch (or call the API) chooses it. Each one but a boolean is tested against what it may be,
 * `[[ "$NAME" =~ ^…$ ]]`, on the first line of the script that uses it.
 */
function uncheckedInputFindings(workflow: Workflow): string[] {
  const dispatch = isRecord(workflow.on) ? workflow.on.workflow_dispatch : undefined;
  const inputs = isRecord(dispatch) && isRecord(dispatch.inputs) ? dispatch.inputs : {};
  const freeText = Object.keys(inputs).filter((name) => !(isRecord(inputs[name]) && inputs[name].type === 'boolean'));
  return runSteps(workflow).flatMap(({ where, step }) =>
    Object.entries(step.env ?? {}).flatMap(([variable, value]) => {
      const input = /\$\{\{[^}]*\b(?:(?:github|gitea)\.event\.)?inputs\.([\w-]+)/.exec(String(value))?.[1];
      if (input === undefined || !freeText.includes(input)) return [];
      const firstUse = (step.run ?? '').split('\n').find((line) => !/^\s*#/.test(line) && new RegExp(`\\$\\{?${variable}\\b`).test(line));
      if (firstUse === undefined) return [];
      const check = new RegExp(`\\[\\[\\s+"?\\$\\{?${variable}\\}?"?\\s+=~\\s+\\^`);
      if (check.test(firstUse)) return [];
      return [`${where}.run: the dispatch input ${input} is used as $${variable} before it is checked; first test it against what it may be ([[ "$${variable}" =~ ^…$ ]]): one starting with "-" is an option`];
    }),
  );
}

/** Targets that push: an image that a failed run left out must be pushed by the next run, whatever it changed. */
const pushingTargets = ['docker-push', 'nx-release-publish'];

/**
 * `nx affected` compares with a base commit. Without `--base` that is nx.json's defaultBase (main):
 * on a push to main, HEAD itself, so it runs nothing and exits 0. A base the clone lacks (a shallow
 * checkout; github.event.before on a new branch or after a force-push, all zeros) fails it with
 * "bad object". And for pushing targets no base is right: a failed earlier run's image is skipped.
 */
function affectedFindings(workflow: Workflow): string[] {
  const fullHistory = checksOutFullHistory(workflow);
  return runSteps(workflow).flatMap(({ where, step }) =>
    shellCommands(step.run ?? '')
      .filter((command) => command[0] === 'npx' && command[1] === 'nx' && command[2] === 'affected')
      .flatMap((command) => {
        const findings: string[] = [];
        const pushing = nxTargetsOf(command).filter((target) => pushingTargets.includes(target));
        if (pushing.length > 0) findings.push(`nx affected -t ${pushing.join(',')} skips the image of a change whose own run failed or was cancelled; use run-many, whose registry lookup skips what is already pushed`);
        if (!command.some((word) => /^--base(=|$)/.test(word))) findings.push('nx affected without --base compares with main: on a push to main that is HEAD itself, so it runs nothing and exits 0');
        if (!fullHistory) findings.push('nx affected needs the base commit, which a shallow checkout lacks ("bad object"): give actions/checkout fetch-depth: 0');
        if (Object.values(step.env ?? {}).some((value) => /\bevent\.before\b/.test(String(value)))) {
          findings.push('event.before is all zeros on a new branch or after a force-push, and nx affected then fails ("bad object"); compare with a commit the clone holds');
        }
        return findings.map((finding) => `${where}.run: \`${command.join(' ')}\`: ${finding}`);
      }),
  );
}

/**
 * nx release picks the version and writes the changelog from the commits since the last release
 * tag; a shallow checkout holds neither, and nx release then refuses it. `nx release publish`
 * publishes a release already cut, from its commit alone.
 */
function releaseHistoryFindings(workflow: Workflow): string[] {
  if (checksOutFullHistory(workflow)) return [];
  return runSteps(workflow).flatMap(({ where, step }) =>
    shellCommands(step.run ?? '')
      .filter((command) => command[0] === 'npx' && command[1] === 'nx' && command[2] === 'release' && command[3] !== 'publish')
      .map((command) => `${where}.run: \`${command.join(' ')}\`: nx release needs the history since the last release and its tags, which a shallow checkout lacks: give actions/checkout fetch-depth: 0`),
  );
}

function checksOutFullHistory(workflow: Workflow): boolean {
  return Object.values(workflow.jobs ?? {}).some((job) =>
    (isRecord(job) && Array.isArray(job.steps) ? job.steps : []).some((step) => isRecord(step) && /^actions\/checkout@/.test(String(step.uses)) && isRecord(step.with) && step.with['fetch-depth'] === 0),
  );
}

const shellBuiltins = [':', 'exit', 'echo', 'printf', 'test', '[', '[[', 'cd', 'git'];

/** Every command is a shell builtin, git, `npm ci`, an npm script of package.json, or `npx nx` on a target or command that exists. */
function missingCommandFindings(workflow: Workflow, workspace: WorkspaceCommands): string[] {
  return runSteps(workflow).flatMap(({ where, step }) =>
    shellCommands(step.run ?? '').flatMap((command) => commandFindings(command, workspace).map((finding) => `${where}.run: \`${command.join(' ')}\`: ${finding}`)),
  );
}

function commandFindings(command: readonly string[], workspace: WorkspaceCommands): string[] {
  const [program, ...args] = command;
  if (shellBuiltins.includes(program)) return [];
  if (program === 'npm') return npmFindings(args, workspace);
  if (program === 'npx') return args[0] === 'nx' ? nxFindings(args.slice(1), workspace) : [`npx runs only this workspace's nx here; "${args[0]}" is not a dependency of it`];
  return [`"${program}" is not a command a runner image is known to have; use an npm script or an nx target`];
}

function npmFindings(args: readonly string[], workspace: WorkspaceCommands): string[] {
  if (args[0] === 'ci') return [];
  const script = args[0] === 'run' || args[0] === 'run-script' ? args[1] : args[0] === 'test' ? 'test' : undefined;
  if (script === undefined) return [`npm ${args[0]} is neither \`npm ci\` nor an npm script`];
  return workspace.npmScripts.has(script) ? [] : [`package.json has no script "${script}"`];
}

function nxFindings(args: readonly string[], workspace: WorkspaceCommands): string[] {
  const [command, ...rest] = args;
  if (command === 'run-many' || command === 'affected') {
    const targets = nxTargetsOf(['npx', 'nx', ...args]);
    if (targets.length === 0) return [`nx ${command} without -t runs nothing`];
    const missingTargets = targets.filter((target) => (workspace.projectsByTarget.get(target) ?? []).length === 0).map((target) => `no project has a target "${target}"`);
    // nx runs nothing for a misspelt project, or one without the targets, and still exits 0.
    const idleProjects = projectsNamed(args)
      .filter((project) => !targets.some((target) => (workspace.projectsByTarget.get(target) ?? []).includes(project)))
      .map((project) => `project "${project}" has none of the targets ${targets.join(', ')}, so nx runs nothing for it`);
    return [...missingTargets, ...idleProjects];
  }
  if (command === 'run') {
    const [project, target] = (rest[0] ?? '').split(':');
    return (workspace.projectsByTarget.get(target) ?? []).includes(project) ? [] : [`project "${project}" has no target "${target}"`];
  }
  if (command === 'release') {
    const options = rest.filter((word) => word.startsWith('-')).map((word) => word.replace(/^--?/, '').split('=')[0]);
    return options.filter((option) => !workspace.nxReleaseOptions.has(option)).map((option) => `nx release has no option --${option}`);
  }
  return [`nx ${command} is not one of the commands checked here (run, run-many, affected, release)`];
}

/** The plain project names of `--projects` / `-p` (patterns, `tag:` and exclusions are left to nx). */
function projectsNamed(args: readonly string[]): string[] {
  const lists = args.flatMap((word, index) => {
    const inline = /^(?:-p|--projects)=(.+)$/.exec(word);
    if (inline) return [inline[1]];
    return ['-p', '--projects'].includes(word) && args[index + 1] ? [args[index + 1]] : [];
  });
  return lists.flatMap((list) => list.split(',')).filter((name) => /^[\w.@/-]+$/.test(name));
}

function nxTargetsOf(command: readonly string[]): string[] {
  if (command[0] !== 'npx' || command[1] !== 'nx') return [];
  if (command[2] === 'run') return command[3]?.includes(':') ? [command[3].split(':')[1]] : [];
  const targets: string[] = [];
  command.forEach((word, index) => {
    const inline = /^(?:-t|--targets?)=(.+)$/.exec(word);
    if (inline) targets.push(...inline[1].split(','));
    else if (['-t', '--target', '--targets'].includes(word) && command[index + 1]) targets.push(...command[index + 1].split(','));
  });
  return targets;
}
