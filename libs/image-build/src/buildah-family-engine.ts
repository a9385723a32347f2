import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lastMeaningfulLine, type CommandRunner } from './command-runner';
import type { ContainerEngine, ImageBuildRequest, PasswordLogin } from './container-engine';
import { EngineCommandError, RegistryLoginRejectedError } from './errors';
import { isLoopbackRegistry } from '@changemaker/oci';
import { withTemporaryAuthDirectory, writeIdentityTokenAuthFile } from './temporary-auth';

/**
 * buildah and podman share the containers/image command line: daemonless builds, `--authfile`
 * logins and manifest lists for several platforms.
 */
export class BuildahFamilyEngine implements ContainerEngine {
  constructor(
    readonly name: 'buildah' | 'podman',
    private readonly runner: CommandRunner,
  ) {}

  async buildImage(request: ImageBuildRequest): Promise<void> {
    // A fresh list per build: adding to a list left by an earlier build would push its images too.
    const manifestList = request.platforms.length > 0 ? `localhost/release-kit-build-${randomUUID()}` : undefined;
    try {
      await this.run('build', this.buildArguments(request, manifestList), request);
      if (request.push) await this.pushAll(request, manifestList);
    } finally {
      if (manifestList) await this.runner.run(this.name, ['manifest', 'rm', manifestList]);
    }
  }

  private async pushAll(request: ImageBuildRequest, manifestList: string | undefined): Promise<void> {
    await withTemporaryAuthDirectory(async (directory) => {
      const authFile = join(directory, 'auth.json');
      const login = request.login;
      if (login?.identityToken !== undefined) {
        await writeIdentityTokenAuthFile(authFile, login);
      } else {
        // An anonymous push still gets its own (empty) auth file: never whatever the user's happens to hold.
        await writeFile(authFile, '{}\n', { mode: 0o600 });
        if (login) await this.logIn(login, authFile);
      }
      for (const reference of request.references) await this.pushReference(reference, manifestList, authFile, request);
    });
  }

  private buildArguments(request: ImageBuildRequest, manifestList: string | undefined): string[] {
    // Docker's image format, as `docker build` makes: the OCI format drops HEALTHCHECK. No layer
    // cache (podman's default, buildah's with BUILDAH_LAYERS): a cached step keeps the time of the
    // build that made it, whatever --timestamp says, so the image would depend on what ran before.
    const args = ['build', '--format', 'docker', '--layers=false', '--file', request.dockerfile];
    if (request.target) args.push('--target', request.target);
    if (request.timestamp !== undefined) args.push('--timestamp', String(request.timestamp));
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
