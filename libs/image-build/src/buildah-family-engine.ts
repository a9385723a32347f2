import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { lastMeaningfulLine, type CommandRunner } from './command-runner';
import type { ContainerEngine, ImageBuildReport, ImageBuildRequest, PasswordLogin } from './container-engine';
import { EngineCommandError, RegistryLoginRejectedError } from './errors';
import { isLoopbackRegistry } from '@changemaker/oci';
import { layerTimestamp, type LayerCacheRequest } from './layer-cache';
import { authEntriesExcept, authEntryOf, withTemporaryAuthDirectory, writeAuthFile } from './temporary-auth';

/** How buildah 1.28 and podman 4.3 say an export to --cache-to failed. */
const cachePushFailure = /failed pushing cache to/i;

/**
 * buildah and podman share the containers/image command line: daemonless builds, `--authfile`
 * logins and manifest lists for several platforms.
 */
export class BuildahFamilyEngine implements ContainerEngine {
  constructor(
    readonly name: 'buildah' | 'podman',
    private readonly runner: CommandRunner,
  ) {}

  async buildImage(request: ImageBuildRequest): Promise<ImageBuildReport> {
    // A fresh list per build: adding to a list left by an earlier build would push its images too.
    const manifestList = request.platforms.length > 0 ? `localhost/release-kit-build-${randomUUID()}` : undefined;
    try {
      return await withTemporaryAuthDirectory(async (directory) => {
        // The build pulls base images and reads and writes the registry-backed cache with the same login as the push.
        const authFile = request.push ? await this.prepareAuthFile(join(directory, 'auth.json'), request) : undefined;
        const report = await this.buildWithCache(request, manifestList, authFile);
        if (authFile) for (const reference of request.references) await this.pushReference(reference, manifestList, authFile, request);
        return report;
      });
    } finally {
      if (manifestList) await this.runner.run(this.name, ['manifest', 'rm', manifestList]);
    }
  }

  /**
   * buildah stops the whole build when a cache push fails; that must not fail the image. The
   * build runs again without exporting: every step it built is in the local cache by then.
   */
  private async buildWithCache(request: ImageBuildRequest, manifestList: string | undefined, authFile: string | undefined): Promise<ImageBuildReport> {
    const result = await this.runner.run(this.name, this.buildArguments(request, manifestList, authFile), { onLine: request.onLine });
    const cacheRepository = request.layerCache.enabled ? request.layerCache.repository : undefined;
    if (result.exitCode === 0) return cacheRepository ? { cacheRepository } : {};
    const failure = `${result.stderr}\n${result.stdout}`.split('\n').find((line) => cachePushFailure.test(line));
    if (!cacheRepository || !failure) throw new EngineCommandError('build', this.name, lastMeaningfulLine(result));
    // The failed build may have added some platforms to the list already.
    if (manifestList) await this.runner.run(this.name, ['manifest', 'rm', manifestList]);
    const withoutExport = { ...request, layerCache: { enabled: true, reuse: true } };
    await this.run('build', this.buildArguments(withoutExport, manifestList, authFile), request);
    return { cacheRepository, cacheExportFailure: failure.replace(/^Error: /, '').trim() };
  }

  /**
   * The push registry's entry is the build's own login, or none: never whatever the user's file
   * happens to hold for it. Every other registry keeps the user's, for base images.
   */
  private async prepareAuthFile(authFile: string, request: ImageBuildRequest): Promise<string> {
    const { login } = request;
    const pushHost = login?.host ?? request.references[0].split('/')[0];
    const otherAuths = await authEntriesExcept(request.userAuthFile, pushHost);
    if (login?.identityToken !== undefined) {
      await writeAuthFile(authFile, { ...otherAuths, [login.host]: authEntryOf(login) });
    } else {
      await writeAuthFile(authFile, otherAuths);
      if (login) await this.logIn(login, authFile);
    }
    return authFile;
  }

  private buildArguments(request: ImageBuildRequest, manifestList: string | undefined, authFile: string | undefined): string[] {
    // Docker's image format, as `docker build` makes: the OCI format drops HEALTHCHECK.
    const args = ['build', '--format', 'docker', ...this.pullArguments(request), ...this.layerArguments(request), '--file', request.dockerfile];
    args.push(...ignoreFileArguments(request));
    if (request.target) args.push('--target', request.target);
    // The push login, for base images kept in the push registry too (mirrored there), whether or not the layer cache is used.
    if (authFile) args.push('--authfile', authFile);
    args.push(...this.cacheArguments(request.layerCache));
    for (const [name, value] of Object.entries(request.labels)) args.push('--label', `${name}=${value}`);
    for (const [name, value] of Object.entries(request.buildArgs)) args.push('--build-arg', `${name}=${value}`);
    if (manifestList) {
      args.push('--platform', request.platforms.join(','), '--manifest', manifestList);
    } else {
      for (const reference of request.references) args.push('--tag', reference);
    }
    args.push(request.context);
    return args;
  }

  /**
   * An image that is pushed is built on the base image its registry holds now, not on whichever
   * copy this machine kept (podman 4.3's default, and `--pull=newer` in podman 4.3 and buildah 1.28,
   * tried): two machines then push the same image for a commit, and a base image update reaches a
   * forced rebuild. Only the manifest is fetched again when the base is unchanged. A local build
   * keeps the engine's default and works offline. (Docker's BuildKit asks the registry itself.)
   */
  private pullArguments(request: ImageBuildRequest): string[] {
    return request.push ? ['--pull=always'] : [];
  }

  /**
   * With the cache: a layer per step, each stamped with a fixed time (layer-cache.ts), so a cached
   * step is the step a cold build would make; --no-cache builds the same layers again. Without:
   * --layers=false, whatever podman's default or BUILDAH_LAYERS say, and the commit's time
   * throughout, which a cached step would not keep (it keeps the time of the build that made it).
   * Files keep a time that moves with the commit there: a web server that derives ETags and
   * Last-Modified from it (nginx) must not tell clients that a changed file is unchanged.
   */
  private layerArguments(request: ImageBuildRequest): string[] {
    if (request.layerCache.enabled) return ['--layers', '--timestamp', String(layerTimestamp)];
    return ['--layers=false', ...(request.timestamp === undefined ? [] : ['--timestamp', String(request.timestamp)])];
  }

  private cacheArguments(cache: LayerCacheRequest): string[] {
    if (!cache.enabled) return [];
    const args = cache.reuse ? [] : ['--no-cache'];
    if (!cache.repository) return args;
    if (cache.reuse) args.push('--cache-from', cache.repository);
    args.push('--cache-to', cache.repository);
    // One switch for every registry the build talks to: only ever turned off for a loopback cache.
    if (isLoopbackRegistry(cache.repository.split('/')[0])) args.push('--tls-verify=false');
    return args;
  }

  private async logIn(login: PasswordLogin, authFile: string): Promise<void> {
    const args = ['login', '--authfile', authFile, '--username', login.username, '--password-stdin'];
    if (isLoopbackRegistry(login.host)) args.push('--tls-verify=false');
    args.push(login.host);
    const result = await this.runner.run(this.name, args, { input: login.password });
    if (result.exitCode === 0) return;
    if (/unauthorized|401|invalid username|incorrect username/i.test(`${result.stderr}${result.stdout}`)) {
      throw new RegistryLoginRejectedError(login.host);
    }
    throw new EngineCommandError('login', this.name, lastMeaningfulLine(result));
  }

  private async pushReference(reference: string, manifestList: string | undefined, authFile: string, request: ImageBuildRequest): Promise<void> {
    const source = manifestList ?? reference;
    const args = manifestList ? ['manifest', 'push', '--all'] : ['push'];
    args.push('--authfile', authFile);
    if (isLoopbackRegistry(reference.split('/')[0])) args.push('--tls-verify=false');
    args.push(source, `docker://${reference}`);
    await this.run('push', args, request);
  }

  private async run(step: string, args: string[], request: ImageBuildRequest): Promise<void> {
    const result = await this.runner.run(this.name, args, { onLine: request.onLine });
    if (result.exitCode !== 0) throw new EngineCommandError(step, this.name, lastMeaningfulLine(result));
  }
}

/**
 * The ignore file docker's BuildKit would read (build-context.ts), named: left to themselves,
 * buildah 1.28 and podman 4.3 read a context's `.containerignore` over its `.dockerignore`, and the
 * Dockerfile's own `<Dockerfile>.dockerignore` only when --file is absolute. With no ignore file,
 * an empty one stands for it, so that a `.containerignore`, which docker never reads, is not read
 * here either.
 */
function ignoreFileArguments(request: ImageBuildRequest): string[] {
  if (request.ignoreFile) return ['--ignorefile', request.ignoreFile];
  return existsSync(join(request.context, '.containerignore')) ? ['--ignorefile', '/dev/null'] : [];
}
