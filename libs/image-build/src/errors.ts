/**
 * Every failure the image build can explain to a user. Each message is one line that says what is
 * wrong and what to do about it; none ever carries a credential.
 */
export class ImageBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class DockerfileNotFoundError extends ImageBuildError {
  constructor(readonly dockerfile: string) {
    super(`Dockerfile not found at ${dockerfile}: create it, or set the "dockerfile" option to where it is.`);
  }
}

export class BuildContextNotFoundError extends ImageBuildError {
  constructor(readonly context: string) {
    super(`build context ${context} does not exist: run the project's build first, or set the "context" option.`);
  }
}

export class UnknownEngineError extends ImageBuildError {
  constructor(readonly engine: string, known: readonly string[]) {
    super(`unknown container engine "${engine}": use one of ${known.join(', ')}, or "auto" to detect one.`);
  }
}

export class EngineNotInstalledError extends ImageBuildError {
  constructor(readonly engine: string, reason: string) {
    const remedy = engine === 'docker' ? 'install docker and start its daemon (or give this user access to its socket)' : `install ${engine}`;
    super(`container engine "${engine}" was chosen but is not usable on this machine (${reason}): ${remedy}, or choose another with --engine.`);
  }
}

export class NoEngineInstalledError extends ImageBuildError {
  constructor(tried: readonly string[]) {
    super(`no container engine found (tried ${tried.join(', ')}): install buildah, podman, or docker with a running daemon (and the buildx plugin, for docker 23 and later).`);
  }
}

export class InvalidTagPatternError extends ImageBuildError {
  constructor(readonly pattern: string, reason: string) {
    super(`invalid tag pattern "${pattern}": ${reason}.`);
  }
}

export class InvalidTagError extends ImageBuildError {
  constructor(readonly tag: string, readonly pattern: string) {
    super(
      `tag pattern "${pattern}" produced "${tag}", which is not a valid image tag (up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"): change the pattern.`,
    );
  }
}

export class PlatformsUnsupportedError extends ImageBuildError {
  constructor(readonly engine: string, reason: string) {
    super(`${engine} cannot build for several platforms here: ${reason}.`);
  }
}

export class BuildKitUnavailableError extends ImageBuildError {
  constructor() {
    super(
      'docker cannot build with BuildKit here: this docker client needs the buildx plugin for it (install docker-buildx-plugin), or choose podman or buildah with --engine.',
    );
  }
}

export class InvalidCacheRepositoryError extends ImageBuildError {
  constructor(readonly location: string, reason: string) {
    super(`invalid cache repository "${location}": ${reason}. Set "cacheRepository" to a repository name (e.g. changemaker-api-cache) or host/namespace/name, without a tag.`);
  }
}

export class InvalidAuthFileError extends ImageBuildError {
  constructor(readonly file: string, reason: string) {
    super(`the containers auth file ${file} ${reason}: fix it (podman login rewrites it), or point REGISTRY_AUTH_FILE elsewhere.`);
  }
}

export class InvalidDockerConfigError extends ImageBuildError {
  constructor(readonly file: string, reason: string) {
    super(`the docker config ${file} ${reason}: fix it (docker login rewrites it), or point DOCKER_CONFIG elsewhere.`);
  }
}

export class EngineCommandError extends ImageBuildError {
  constructor(readonly step: string, readonly engine: string, detail: string) {
    super(`${engine} ${step} failed: ${detail}`);
  }
}

export class RegistryLoginRejectedError extends ImageBuildError {
  constructor(readonly registryHost: string) {
    super(
      `the registry ${registryHost} rejected the login: check GITEA_REGISTRY_USER / GITEA_REGISTRY_PASSWORD or the auths entry for ${registryHost} in ~/.docker/config.json.`,
    );
  }
}

export class AmbiguousIgnorePatternError extends ImageBuildError {
  constructor(readonly ignoreFile: string, readonly lineNumber: number, readonly pattern: string, character: string) {
    super(
      `${ignoreFile} line ${lineNumber}: "${pattern}" has "${character}", which newer docker takes literally and older docker, buildah and podman as a regular expression, so engines would send different files: escape it as "\\${character}" (${pattern.replace(/(?<!\\)([+(){}|])/g, '\\$1')}).`,
    );
  }
}
