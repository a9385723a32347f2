import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';

/** The part of GitHub / Gitea Actions workflow syntax the checks read; the rest stays `unknown`. */
export interface WorkflowStep {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface WorkflowJob {
  'runs-on'?: unknown;
  env?: Record<string, unknown>;
  steps?: WorkflowStep[];
  [key: string]: unknown;
}

export interface Workflow {
  on?: unknown;
  env?: Record<string, unknown>;
  jobs?: Record<string, WorkflowJob>;
  [key: string]: unknown;
}

export interface WorkflowFile {
  /** The path as the checks name it, e.g. `.gitea/workflows/images.yml`. */
  path: string;
  workflow: Workflow;
  /** The file as written: the comments (an action's version beside its pinned commit) are only here. */
  text: string;
  /** YAML errors (a duplicate key, a bad indent): a file with any is not checked further. */
  yamlErrors: string[];
}

export const workflowsDirectory = '.gitea/workflows';

export class WorkflowStepNotFoundError extends Error {
  constructor(path: string, jobId: string, stepId: string) {
    super(`${path}: no step with id "${stepId}" in job "${jobId}"`);
  }
}

export function parseWorkflow(path: string, text: string): WorkflowFile {
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const yamlErrors = document.errors.map((error) => error.message);
  const parsed = yamlErrors.length === 0 ? document.toJS() : {};
  const workflow = isRecord(parsed) ? (parsed as Workflow) : {};
  return { path, workflow, text, yamlErrors };
}

/** Every `.yml` / `.yaml` file of the workspace's `.gitea/workflows/`. */
export async function readWorkflows(workspaceRoot: string): Promise<WorkflowFile[]> {
  const directory = join(workspaceRoot, workflowsDirectory);
  const names = (await readdir(directory)).filter((name) => /\.ya?ml$/.test(name)).sort();
  return Promise.all(names.map(async (name) => parseWorkflow(`${workflowsDirectory}/${name}`, await readFile(join(directory, name), 'utf8'))));
}

export function findStep(file: WorkflowFile, jobId: string, stepId: string): WorkflowStep {
  const step = file.workflow.jobs?.[jobId]?.steps?.find((candidate) => candidate.id === stepId);
  if (!step) throw new WorkflowStepNotFoundError(file.path, jobId, stepId);
  return step;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
