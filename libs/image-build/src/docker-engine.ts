import { join } from 'node:path';
import { lastMeaningfulLine, type CommandRunner } from './command-runner';
import type { ContainerEngine, ImageBuildReport, ImageBuildRequest, RegistryLogin } from './container-engine';
import { BuildKitUnavailableError, EngineCommandError, PlatformsUnsupportedError } from './errors';
import { withTemporaryAuthDirectory, writeIdentityTokenAuthFile, writePasswordAuthFile } from './temporary-auth';

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
      if (request.push && request.login) await writeLogin(request.login, configDirectory);
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
    const args = pushesWhileBuilding ? ['--config', configDirectory, 'buildx', 'build'] : this.hasBuildx ? ['buildx', 'build'] : ['build'];
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

/**
 * The login goes into the private config as `docker login` would store it in a file, never through
 * `docker login`: given a config without logins, docker's CLI saves one in the platform's default
 * credential helper when it is installed (docker-credential-secretservice, -pass), so the password
 * would stay in the user's keychain after the push, over the user's own login for that registry.
 * The registry client has already checked the login before the build (build-and-push.ts); the
 * daemon exchanges an identity token itself.
 */
function writeLogin(login: RegistryLogin, configDirectory: string): Promise<void> {
  const file = join(configDirectory, 'config.json');
  return login.identityToken !== undefined ? writeIdentityTokenAuthFile(file, login) : writePasswordAuthFile(file, login);
}

/**
 * BuildKit always: the legacy builder builds every stage up to the target, so a production build
 * would also run the development stage, which needs files a production context does not have.
 */
function dockerEnvironmentFor(request: ImageBuildRequest): Record<string, string> {
  return { DOCKER_BUILDKIT: '1', ...(request.timestamp === undefined ? {} : { SOURCE_DATE_EPOCH: String(request.timestamp) }) };
}
