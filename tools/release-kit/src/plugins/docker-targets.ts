import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { abandonReleaseTargetName, nxRunCommand, releasePublishTargetName, releaseTagPattern, versionFileName } from '@changemaker/release-contract';
// Types only: loading @nx/devkit at run time would add a second to every project-graph computation.
import type { CreateNodes, CreateNodesResult, TargetConfiguration } from '@nx/devkit';
import { executorNamed } from '../executor-names';
import { normalizeOptions, type DockerTargetsOptions, type NormalizedOptions } from './plugin-options';
import { productOf } from './released-product';

interface ProjectFile {
  name?: string;
  tags?: string[];
}

const executor = executorNamed('docker-build-push');
const productReleaseExecutor = executorNamed('release-product');
const abandonExecutor = executorNamed('abandon-release');
const onDemandConfiguration = 'with-on-demand';

/**
 * A Dockerfile makes a project an image; a VERSION file makes it the released product (the one
 * `nx release` versions; see productOf when there are several), whose
 * nx-release-publish runs after every image's.
 */
export const createNodes: CreateNodes<DockerTargetsOptions> = [
  `**/{Dockerfile,${versionFileName}}`,
  (files, options, context) => {
    const projectOf = new Map(files.map((file) => [file, readProjectFile(context.workspaceRoot, dirname(file))]));
    const versionFiles = files.flatMap((file) => {
      const project = projectOf.get(file);
      return basename(file) === versionFileName && project ? [{ file, project: project.name ?? dirname(file) }] : [];
    });
    // Images know the product's version from its VERSION file when nx release does not pass it.
    const releaseVersionFile = productOf(versionFiles, context.nxJsonConfiguration?.release)?.file;
    const settings = normalizeOptions(options);
    return files.map((file) => {
      const project = projectOf.get(file);
      if (!project) return [file, {}] as const;
      if (basename(file) === versionFileName) return [file, file === releaseVersionFile ? createNodesForVersionFile(file, project, settings) : {}] as const;
      return [file, createNodesForDockerfile(file, project, settings, releaseVersionFile)] as const;
    });
  },
];

function createNodesForDockerfile(dockerfile: string, project: ProjectFile, settings: NormalizedOptions, releaseVersionFile: string | undefined): CreateNodesResult {
  const projectRoot = dirname(dockerfile);
  const onDemand = project.tags?.includes(settings.onDemandTag) ?? false;
  const projectName = project.name ?? projectRoot;
  const input = { settings, projectName, onDemand };
  const release: Record<string, TargetConfiguration> = releaseVersionFile ? { [releasePublishTargetName]: imageReleaseTarget(input, releaseVersionFile) } : {};
  return {
    projects: {
      [projectRoot]: {
        targets: {
          [settings.buildTargetName]: dockerTarget({ ...input, push: false }),
          [settings.pushTargetName]: dockerTarget({ ...input, push: true }),
          ...release,
        },
        metadata: { targetGroups: { Docker: [settings.buildTargetName, settings.pushTargetName, ...Object.keys(release)] } },
      },
    },
  };
}

function createNodesForVersionFile(versionFile: string, project: ProjectFile, settings: NormalizedOptions): CreateNodesResult {
  const projectRoot = dirname(versionFile);
  return {
    projects: {
      [projectRoot]: {
        targets: {
          [releasePublishTargetName]: productReleaseTarget(settings, project.name ?? projectRoot, versionFile),
          [abandonReleaseTargetName]: abandonTarget(project.name ?? projectRoot, versionFile),
        },
        metadata: { targetGroups: { Release: [releasePublishTargetName, abandonReleaseTargetName] } },
      },
    },
  };
}

/** Undoes a release that stopped before it was pushed: its draft, tag and release commit. */
function abandonTarget(projectName: string, versionFile: string): TargetConfiguration {
  return {
    executor: abandonExecutor,
    cache: false,
    options: { versionFile },
    metadata: {
      technologies: ['git'],
      description: `Undo ${projectName}'s release that stopped before it was pushed: delete its Gitea draft, its tag and its release commit`,
      help: { command: nxRunCommand(projectName, abandonReleaseTargetName, '--help'), example: { options: { dryRun: true } } },
    },
  };
}

/** A Dockerfile or VERSION file outside a project (a fixture, an example) gets no targets. */
function readProjectFile(workspaceRoot: string, projectRoot: string): ProjectFile | undefined {
  for (const file of ['project.json', 'package.json']) {
    const path = join(workspaceRoot, projectRoot, file);
    if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as ProjectFile;
  }
  return undefined;
}

interface DockerTargetInput {
  settings: NormalizedOptions;
  projectName: string;
  onDemand: boolean;
  push: boolean;
}

function dockerTarget({ settings, projectName, onDemand, push }: DockerTargetInput): TargetConfiguration {
  const targetName = push ? settings.pushTargetName : settings.buildTargetName;
  return {
    executor,
    // Always: the build target may come from another plugin (inferred from a vite or tsconfig
    // file), which this one cannot see, and an image built before its build output is refreshed
    // holds the last build's files under this commit's tags. Nx skips it where there is no build.
    dependsOn: ['build'],
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
        command: nxRunCommand(projectName, targetName, '--help'),
        example: { options: push ? { tags: ['{sha}', 'latest', 'v{version}'], imageVersion: '1.2.3' } : { engine: 'buildah' } },
      },
    },
  };
}

/**
 * An image's part of `nx release publish`: the image of this commit under its usual tags and
 * v{version}, built, or tagged registry-side when the registry has an image of the same inputs.
 */
function imageReleaseTarget({ settings, projectName, onDemand }: Omit<DockerTargetInput, 'push'>, releaseVersionFile: string): TargetConfiguration {
  const push = dockerTarget({ settings, projectName, onDemand, push: true });
  return {
    ...push,
    options: { ...push.options, tags: [...settings.tags, releaseTagPattern], releaseVersionFile },
    configurations: undefined,
    metadata: {
      technologies: ['docker'],
      description: `Push the ${projectName} image under its commit, latest and v{version} tags for nx release publish (tagged registry-side when its inputs did not change)`,
      help: { command: nxRunCommand(projectName, releasePublishTargetName, '--help'), example: { options: { dryRun: true } } },
    },
  };
}

/** The product's part of `nx release publish`, after every image it ships has been pushed. */
function productReleaseTarget(settings: NormalizedOptions, projectName: string, versionFile: string): TargetConfiguration {
  return {
    executor: productReleaseExecutor,
    dependsOn: [{ dependencies: true, target: releasePublishTargetName, params: 'forward' }],
    cache: false,
    // The registry its image tasks push to: the release checks and names its images there.
    options: { versionFile, ...(settings.registry ? { registry: settings.registry } : {}) },
    metadata: {
      technologies: ['docker'],
      description: `Check every image ${projectName} ships in the registry, package the release and publish it to Gitea (after every image's ${releasePublishTargetName})`,
      help: { command: nxRunCommand(projectName, releasePublishTargetName, '--help'), example: { options: { dryRun: true } } },
    },
  };
}
