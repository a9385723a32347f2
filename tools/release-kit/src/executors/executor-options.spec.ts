import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { CreateNodesContext, TargetConfiguration } from '@nx/devkit';
// The function nx run and the task runner call on every executor's options: the same merge of
// target options, configuration and command line, the same defaults, the same validation.
import { combineOptionsForExecutor } from 'nx/src/utils/params';
import { createNodes } from '../plugins/docker-targets';

const workspaceRoot = resolve(__dirname, '../../../..');
const executorsRoot = resolve(__dirname, '../../executors');
type Schema = Parameters<typeof combineOptionsForExecutor>[3] & { properties: Record<string, { description?: string; type?: unknown; oneOf?: unknown }>; additionalProperties?: unknown };

const executorsJson = JSON.parse(readFileSync(join(executorsRoot, 'executors.json'), 'utf8')) as { executors: Record<string, { schema: string }> };
const schemas: Record<string, Schema> = Object.fromEntries(
  Object.entries(executorsJson.executors).map(([name, entry]) => [name, JSON.parse(readFileSync(join(executorsRoot, entry.schema), 'utf8')) as Schema]),
);
/** What a run always gives on the command line: package-release's --tag. */
const commandLineRequired: Record<string, Record<string, unknown>> = { 'package-release': { tag: 'v1.2.3' } };
const executorName = (executor: string) => executor.replace('./tools/release-kit/executors:', '');

/** Options as Nx resolves them for a run of `target` with these command-line overrides; throws Nx's SchemaError. */
function resolveOptions(executor: string, target: TargetConfiguration, overrides: Record<string, unknown> = {}, configuration?: string): Record<string, unknown> {
  const schema = schemas[executorName(executor)];
  if (!schema) throw new Error(`no schema for ${executor}`);
  const commandLine = { ...commandLineRequired[executorName(executor)], ...overrides } as Parameters<typeof combineOptionsForExecutor>[0];
  return combineOptionsForExecutor(commandLine, configuration ?? '', { ...target, options: { ...target.options } }, schema, 'docker', '', false);
}

function schemaError(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as { message?: string }).message ?? String(error);
  }
}

/** The targets of this workspace that use the plugin's executors: docker/project.json's and the inferred ones. */
async function workspaceTargets(): Promise<Array<{ id: string; target: TargetConfiguration }>> {
  const targets: Array<{ id: string; target: TargetConfiguration }> = [];
  const projectFiles = [join('docker', 'project.json'), ...(await readdir(join(workspaceRoot, 'apps'))).map((app) => join('apps', app, 'project.json'))];
  for (const file of projectFiles) {
    const project = JSON.parse(readFileSync(join(workspaceRoot, file), 'utf8')) as { name: string; targets?: Record<string, TargetConfiguration> };
    for (const [name, target] of Object.entries(project.targets ?? {})) {
      if (target.executor?.startsWith('./tools/release-kit/executors:')) targets.push({ id: `${project.name}:${name}`, target });
    }
  }
  const nxJson = JSON.parse(readFileSync(join(workspaceRoot, 'nx.json'), 'utf8')) as { plugins: Array<{ plugin: string; options?: object }> };
  const pluginOptions = nxJson.plugins.find((entry) => entry.plugin === './tools/release-kit/plugin.js')?.options;
  const files = [...(await readdir(join(workspaceRoot, 'apps'))).map((app) => join('apps', app, 'Dockerfile')), join('docker', 'VERSION')];
  const context: CreateNodesContext = { workspaceRoot, nxJsonConfiguration: {} };
  for (const [file, result] of await createNodes[1](files, pluginOptions, context)) {
    for (const project of Object.values(result.projects ?? {})) {
      for (const [name, target] of Object.entries(project.targets ?? {})) targets.push({ id: `${basename(dirname(file))}:${name} (inferred)`, target });
    }
  }
  return targets;
}

/**
 * The keys `nx release publish` adds to the overrides of its nx-release-publish tasks (and, through
 * `params: "forward"`, of the image tasks they depend on), read from the installed Nx so an
 * upgrade that adds one fails here rather than in a release.
 */
function nxReleasePublishOverrideKeys(): string[] {
  const publish = readFileSync(require.resolve('nx/src/command-line/release/publish.js'), 'utf8');
  return [...new Set([...publish.matchAll(/\boverrides\.(\w+)\s*=/g)].map((match) => match[1]))].sort();
}

const releasePublishValues: Record<string, unknown> = {
  dryRun: true,
  firstRelease: true,
  registry: '127.0.0.1:9/admin',
  tag: 'next',
  otp: 123456,
  access: 'public',
  nxReleaseVersionData: { docker: { currentVersion: '1.0.0', newVersion: '1.1.0', dependentProjects: [] } },
};

describe('executor options', () => {
  it.each(Object.keys(schemas))('%s refuses an option its schema does not declare, before it runs', (name) => {
    const schema = schemas[name];
    expect(schema.additionalProperties).toBe(false);
    const required: Record<string, unknown> = { tag: 'v1.2.3', sources: ['x'] };
    const options = Object.fromEntries(((schema as { required?: string[] }).required ?? []).map((key) => [key, required[key]]));
    expect(schemaError(() => combineOptionsForExecutor({}, '', { options }, schema, 'docker', '', false))).toBeUndefined();
    for (const typo of ['dryrun', 'bogusOpt', 'dry_run']) {
      expect(schemaError(() => combineOptionsForExecutor({ [typo]: true }, '', { options }, schema, 'docker', '', false))).toBe(`'${typo}' is not found in schema`);
    }
    // Nx Console shows every option with its description.
    for (const [key, property] of Object.entries(schema.properties)) expect([key, typeof property.description]).toEqual([key, 'string']);
  });

  it("accepts every target's configured options and configurations in this workspace", async () => {
    const targets = await workspaceTargets();
    expect(targets.map((entry) => entry.id)).toEqual(
      expect.arrayContaining(['docker:mirror-images', 'docker:package-release', 'docker:publish-release', 'api:docker-push (inferred)', 'docker:nx-release-publish (inferred)']),
    );
    for (const { id, target } of targets) {
      expect([id, schemaError(() => resolveOptions(target.executor!, target))]).toEqual([id, undefined]);
      for (const configuration of Object.keys(target.configurations ?? {})) {
        expect([id, configuration, schemaError(() => resolveOptions(target.executor!, target, {}, configuration))]).toEqual([id, configuration, undefined]);
      }
    }
  });

  it('declares every key nx release publish passes on the executors behind nx-release-publish', async () => {
    const keys = nxReleasePublishOverrideKeys();
    expect(keys).toEqual(expect.arrayContaining(['dryRun', 'firstRelease', 'nxReleaseVersionData', 'registry', 'tag', 'otp', 'access']));
    expect(keys.filter((key) => !(key in releasePublishValues))).toEqual([]);
    const overrides = Object.fromEntries(keys.map((key) => [key, releasePublishValues[key]]));
    const releaseTargets = (await workspaceTargets()).filter((entry) => entry.id.includes(':nx-release-publish'));
    expect(new Set(releaseTargets.map((entry) => executorName(entry.target.executor!)))).toEqual(new Set(['docker-build-push', 'release-product']));
    for (const { id, target } of releaseTargets) {
      expect([id, schemaError(() => resolveOptions(target.executor!, target, overrides))]).toEqual([id, undefined]);
    }
  });

  it("lets publish-release forward each of its own options to package-release (dependsOn params: forward)", async () => {
    const targets = await workspaceTargets();
    const publish = targets.find((entry) => entry.id === 'docker:publish-release')!.target;
    const packaging = targets.find((entry) => entry.id === 'docker:package-release')!.target;
    // Nx forwards the whole command line, not only the options the dependency declares.
    expect(publish.dependsOn).toEqual([{ target: 'package-release', params: 'forward' }]);
    const sample: Record<string, unknown> = { tag: 'v1.2.3', inputDir: 'dist/release', bundleRoot: 'changemaker-lite', notesFile: 'NOTES.md', replace: true, dryRun: true, draft: true, prerelease: true, json: true, retries: 2, retryDelay: 10 };
    expect(Object.keys(schemas['publish-release'].properties).sort()).toEqual(Object.keys(sample).sort());
    for (const [key, value] of Object.entries(sample)) {
      expect([key, schemaError(() => resolveOptions(publish.executor!, publish, { [key]: value }))]).toEqual([key, undefined]);
      expect([key, schemaError(() => resolveOptions(packaging.executor!, packaging, { [key]: value }))]).toEqual([key, undefined]);
    }
    // A typo is still refused, by package-release, which runs first.
    expect(schemaError(() => resolveOptions(packaging.executor!, packaging, { dryrun: true }))).toBe("'dryrun' is not found in schema");
  });

  it.each(['package-release', 'publish-release'])('%s takes a numeric-looking --tag, so its own check can explain it', (name) => {
    const target = { executor: `./tools/release-kit/executors:${name}`, options: name === 'package-release' ? { sources: ['x'] } : {} };
    // yargs-parser, as Nx runs it on the command line, makes `--tag 1.2` and `--tag=2` numbers.
    for (const tag of [1.2, 2, 'v1.2.3', '1.2']) {
      expect([tag, schemaError(() => resolveOptions(target.executor, target, { tag }))]).toEqual([tag, undefined]);
    }
    expect(schemaError(() => resolveOptions(target.executor, target, { tag: true }))).toMatch(/tag/);
  });
});
