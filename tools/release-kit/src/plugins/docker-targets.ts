import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
// Types only: loading @nx/devkit at run time would add a second to every project-graph computation.
import type { CreateNodes, CreateNodesContext, CreateNodesResult, TargetConfiguration } from '@nx/devkit';

/** The plugin's entry in nx.json; every field may also be overridden in a project's own target options. */
export interface DockerTargetsOptions {
  buildTargetName?: string;
  pushTargetName?: string;
  registry?: string;
  imageName?: string;
  tags?: string[];
  engine?: 'auto' | 'docker' | 'podman' | 'buildah';
  /** Where docker-push keeps the registry-backed layer cache; see the executor's schema. */
  cacheRepository?: string;
  /** Projects with this tag are left out of ordinary runs (the seed's ~9 GB code-server). */
  onDemandTag?: string;
}

type NormalizedOptions = Required<Omit<DockerTargetsOptions, 'registry' | 'cacheRepository'>> & Pick<DockerTargetsOptions, 'registry' | 'cacheRepository'>;

interface ProjectFile {
  name?: string;
  tags?: string[];
  targets?: Record<string, unknown>;
}

const executor = '@changemaker/release-kit:docker-build-push';
const onDemandConfiguration = 'with-on-demand';

export const createNodes: CreateNodes<DockerTargetsOptions> = [
  '**/Dockerfile',
  (dockerfiles, options, context) => dockerfiles.map((dockerfile) => [dockerfile, createNodesForDockerfile(dockerfile, options, context)] as const),
];

function createNodesForDockerfile(dockerfile: string, options: DockerTargetsOptions | undefined, context: CreateNodesContext): CreateNodesResult {
  const projectRoot = dirname(dockerfile);
  const project = readProjectFile(context.workspaceRoot, projectRoot);
  if (!project) return {};
  const settings = normalizeOptions(options);
  const onDemand = project.tags?.includes(settings.onDemandTag) ?? false;
  const hasBuild = Boolean(project.targets?.['build']);
  const projectName = project.name ?? projectRoot;
  return {
    projects: {
      [projectRoot]: {
        targets: {
          [settings.buildTargetName]: dockerTarget({ settings, projectName, hasBuild, onDemand, push: false }),
          [settings.pushTargetName]: dockerTarget({ settings, projectName, hasBuild, onDemand, push: true }),
        },
        metadata: { targetGroups: { Docker: [settings.buildTargetName, settings.pushTargetName] } },
      },
    },
  };
}

/** A Dockerfile outside a project (a fixture, an example) gets no targets. */
function readProjectFile(workspaceRoot: string, projectRoot: string): ProjectFile | undefined {
  for (const file of ['project.json', 'package.json']) {
    const path = join(workspaceRoot, projectRoot, file);
    if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as ProjectFile;
  }
  return undefined;
}

function normalizeOptions(options: DockerTargetsOptions | undefined): NormalizedOptions {
  return {
    buildTargetName: options?.buildTargetName ?? 'docker-build',
    pushTargetName: options?.pushTargetName ?? 'docker-push',
    registry: options?.registry,
    cacheRepository: options?.cacheRepository,
    imageName: options?.imageName ?? 'changemaker-{projectName}',
    tags: options?.tags ?? ['{sha}', 'latest'],
    engine: options?.engine ?? 'auto',
    onDemandTag: options?.onDemandTag ?? 'docker:on-demand',
  };
}

interface DockerTargetInput {
  settings: NormalizedOptions;
  projectName: string;
  hasBuild: boolean;
  onDemand: boolean;
  push: boolean;
}

function dockerTarget({ settings, projectName, hasBuild, onDemand, push }: DockerTargetInput): TargetConfiguration {
  const targetName = push ? settings.pushTargetName : settings.buildTargetName;
  return {
    executor,
    dependsOn: hasBuild ? ['build'] : [],
    inputs: ['production', '^production', { env: 'GITEA_REGISTRY' }],
    // The registry is the cache: a task hash cannot know which tags the registry already has.
    cache: false,
    options: {
      push,
      imageName: settings.imageName,
      tags: settings.tags,
      engine: settings.engine,
      onDemand,
      ...(settings.registry ? { registry: settings.registry } : {}),
      ...(settings.cacheRepository ? { cacheRepository: settings.cacheRepository } : {}),
    },
    ...(onDemand ? { configurations: { [onDemandConfiguration]: { onDemand: false } } } : {}),
    metadata: {
      technologies: ['docker'],
      description: push
        ? `Build the ${projectName} image and push it under its commit and latest tags (skips the build when the registry has these inputs)`
        : `Build the ${projectName} image without pushing it`,
      help: {
        command: `npx nx run ${projectName}:${targetName} --help`,
        example: { options: push ? { tags: ['{sha}', 'latest', 'v{version}'], version: '1.2.3' } : { engine: 'buildah' } },
      },
    },
  };
}
