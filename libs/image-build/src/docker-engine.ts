import { join } from 'node:path';
import { lastMeaningfulLine, type CommandRunner } from './command-runner';
import type { ContainerEngine, ImageBuildReport, ImageBuildRequest } from './container-engine';
import { BuildKitUnavailableError, EngineCommandError, PlatformsUnsupportedError } from './errors';
import { writePrivateDockerConfig } from './docker-config';
import { withTemporaryAuthDirectory } from './temporary-auth';

/**
 * The docker CLI against a daemon. With buildx, several platforms are built and pushed in one
 * step (a multi-platform image cannot be loaded into the daemon); without it, one platform only,
 * through the BuildKit built into docker clients before 23.
 */
export class DockerEngine implements ContainerEngine {
  readonly name = 'docker' as const;

  constructor(
    private readonly runner: CommandRunner,
    private readonly hasBuildx: boolean,
    /** Whether this client can build with BuildKit: through buildx, or built in before docker 23. */
    readonly hasBuildKit: boolean,
  ) {}

  async buildImage(request: ImageBuildRequest): Promise<ImageBuildReport> {
    if (request.platforms.length > 1 && !this.hasBuildx) {
      throw new PlatformsUnsupportedError('docker', 'docker buildx is not installed; install the buildx plugin, or use buildah or podman');
    }
    await withTemporaryAuthDirectory(async (configDirectory) => {
      // The build pulls base images with the push login too: they may be mirrored into the push registry.
      if (request.push) await writePrivateDockerConfig(join(configDirectory, 'config.json'), pushHostOf(request), request.login, request.userDockerConfig);
      const pushesWhileBuilding = request.push && this.hasBuildx;
      await this.run('build', this.buildArguments(request, configDirectory, pushesWhileBuilding), request);
      if (!request.push || pushesWhileBuilding) return;
      for (const reference of request.references) {
        await this.run('push', ['--config', configDirectory, 'push', reference], request);
      }
    });
    return {};
  }

  private buildArguments(request: ImageBuildRequest, configDirectory: string, pushesWhileBuilding: boolean): string[] {
    const args = [...(request.push ? ['--config', configDirectory] : []), ...(this.hasBuildx ? ['buildx', 'build'] : ['build'])];
    args.push('--file', request.dockerfile);
    if (request.target) args.push('--target', request.target);
    // BuildKit keeps its own layer cache in the daemon, for every build; only --no-cache is ours to
    // say. No registry cache: Debian's docker 20.10 has no --cache-to, and buildx's default driver
    // cannot export one.
    if (!request.layerCache.reuse) args.push('--no-cache');
    for (const [name, value] of Object.entries(request.labels)) args.push('--label', `${name}=${value}`);
    for (const [name, value] of Object.entries(request.buildArgs)) args.push('--build-arg', `${name}=${value}`);
    if (request.platforms.length > 0) args.push('--platform', request.platforms.join(','));
    for (const reference of request.references) args.push('--tag', reference);
    if (pushesWhileBuilding) args.push('--push');
    // A multi-platform image cannot be loaded into the daemon: without a push it stays in the build cache.
    else if (this.hasBuildx && request.platforms.length <= 1) args.push('--load');
    args.push(request.context);
    return args;
  }

  private async run(step: string, args: string[], request: ImageBuildRequest): Promise<void> {
    const result = await this.runner.run('docker', args, { onLine: request.onLine, env: dockerEnvironmentFor(request) });
    if (result.exitCode === 0) return;
    if (/buildx component is missing/i.test(`${result.stderr}${result.stdout}`)) throw new BuildKitUnavailableError();
    throw new EngineCommandError(step, 'docker', lastMeaningfulLine(result));
  }
}

function pushHostOf(request: ImageBuildRequest): string {
  return request.login?.host ?? request.references[0].split('/')[0];
}

/**
 * BuildKit always: the legacy builder builds every stage up to the target, so a production build
 * would also run the development stage, which needs files a production context does not have.
 */
function dockerEnvironmentFor(request: ImageBuildRequest): Record<string, string> {
  return { DOCKER_BUILDKIT: '1', ...(request.timestamp === undefined ? {} : { SOURCE_DATE_EPOCH: String(request.timestamp) }) };
}
