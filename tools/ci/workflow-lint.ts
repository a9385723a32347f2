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
  if (uses !== undefined && !/^[\w.-]+\/[\w./-]+@[\w.-]+$/.test(String(uses))) findings.push(`${where}: uses "${String(uses)}" is not owner/name@version`);
  if (run !== undefined && step.with !== undefined) findings.push(`${where}: \`with:\` is for actions; a run step takes its values from \`env:\``);
  if (run !== undefined && typeof run !== 'string') findings.push(`${where}: \`run:\` must be a script`);
  return findings;
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

const shellBuiltins = [':', 'exit', 'echo', 'printf', 'test', '[', 'cd', 'git'];

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
