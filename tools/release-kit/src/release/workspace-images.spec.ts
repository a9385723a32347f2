import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateNodesContextV2, CreateNodesResult, ExecutorContext, ProjectConfiguration } from '@nx/devkit';
import { createNodes } from '../plugins/docker-targets';
import type { DockerTargetsOptions } from '../plugins/plugin-options';
import { imageRegistryProblem, workspaceImagesOf, workspaceProjectsOf } from './workspace-images';

describe('the workspace images a release looks for', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cm-workspace-images-'));
    for (const [dir, files] of Object.entries({ 'apps/api': ['Dockerfile'], 'apps/media-api': ['Dockerfile'], 'libs/shared': [], docker: ['VERSION'] })) {
      await mkdir(join(root, dir), { recursive: true });
      await writeFile(join(root, dir, 'project.json'), JSON.stringify({ name: dir.split('/').pop() }));
      for (const file of files) await writeFile(join(root, dir, file), file === 'VERSION' ? 'v1.0.0\n' : 'FROM scratch\n');
    }
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  /** The projects as Nx merges them: the plugin's inferred targets, then each project.json's own target options over them. */
  function contextWith(options: DockerTargetsOptions, overrides: Record<string, Record<string, Record<string, unknown>>> = {}): ExecutorContext {
    const [pattern, infer] = createNodes;
    expect(pattern).toContain('Dockerfile');
    const files = ['apps/api/Dockerfile', 'apps/media-api/Dockerfile', 'docker/VERSION'];
    const inferred = infer(files, options, { workspaceRoot: root, nxJsonConfiguration: {} } as CreateNodesContextV2) as Array<readonly [string, CreateNodesResult]>;
    const projects: Record<string, ProjectConfiguration> = { shared: { root: 'libs/shared', targets: {} } };
    for (const [, result] of inferred) {
      for (const [projectRoot, project] of Object.entries(result.projects ?? {})) {
        const name = projectRoot.split('/').pop()!;
        const targets = Object.fromEntries(
          Object.entries(project.targets ?? {}).map(([target, config]) => [target, { ...config, options: { ...config.options, ...overrides[name]?.[target] } }]),
        );
        projects[name] = { root: projectRoot, targets };
      }
    }
    return { root, cwd: root, isVerbose: false, projectName: 'docker', projectsConfigurations: { version: 2, projects } } as ExecutorContext;
  }

  it('are the projects with a Dockerfile, each under the imageName the plugin gives it', () => {
    expect(workspaceImagesOf(workspaceProjectsOf(contextWith({})))).toEqual([
      { project: 'api', repository: 'changemaker-api' },
      { project: 'media-api', repository: 'changemaker-media-api' },
    ]);
    expect(workspaceImagesOf(workspaceProjectsOf(contextWith({ imageName: 'acme/{projectName}' })))).toEqual([
      { project: 'api', repository: 'acme/api' },
      { project: 'media-api', repository: 'acme/media-api' },
    ]);
  });

  it("take a project's own imageName from its release target, the one that pushes v{version}, not from its other image targets", () => {
    const context = contextWith({}, { 'media-api': { 'nx-release-publish': { imageName: 'media' }, 'docker-build': { imageName: 'media-local' } } });
    expect(workspaceImagesOf(workspaceProjectsOf(context))).toEqual([
      { project: 'api', repository: 'changemaker-api' },
      { project: 'media-api', repository: 'media' },
    ]);
  });

  it("are looked for in the registry their release targets push to: one given its own registry is refused, naming both", () => {
    const env = { GITEA_REGISTRY: '127.0.0.1:5000/admin' };
    expect(imageRegistryProblem(workspaceProjectsOf(contextWith({})), undefined, env)).toBeUndefined();
    expect(imageRegistryProblem(workspaceProjectsOf(contextWith({ registry: '127.0.0.1:5000/team' })), '127.0.0.1:5000/team', env)).toBeUndefined();
    // Set to what GITEA_REGISTRY says: the same registry, however it was named.
    expect(imageRegistryProblem(workspaceProjectsOf(contextWith({}, { api: { 'nx-release-publish': { registry: '127.0.0.1:5000/admin' } } })), undefined, env)).toBeUndefined();
    const own = workspaceProjectsOf(contextWith({}, { 'media-api': { 'nx-release-publish': { registry: '127.0.0.1:5000/other' } } }));
    expect(imageRegistryProblem(own, undefined, env)).toBe(
      "media-api's nx-release-publish pushes its image to 127.0.0.1:5000/other, but the release checks, records and packages the images in 127.0.0.1:5000/admin: set registry once, in the plugin's options in nx.json, which give it to every release target, and not on one target (project.json, targetDefaults)",
    );
    // Only the release target counts: CI's docker-push may push elsewhere.
    expect(imageRegistryProblem(workspaceProjectsOf(contextWith({}, { api: { 'docker-push': { registry: '127.0.0.1:5000/ci' } } })), undefined, env)).toBeUndefined();
  });
});
