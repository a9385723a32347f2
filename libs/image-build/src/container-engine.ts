import type { LayerCacheRequest } from './layer-cache';

export const engineNames = ['docker', 'podman', 'buildah'] as const;
export type EngineName = (typeof engineNames)[number];

export interface PasswordLogin {
  host: string;
  username: string;
  password: string;
  identityToken?: undefined;
}

/** `docker login`'s OAuth2 refresh token: written into the engine's private auth file, never sent as a password. */
export interface IdentityTokenLogin {
  host: string;
  identityToken: string;
}

/** Tell the two apart by `identityToken !== undefined`. */
export type RegistryLogin = PasswordLogin | IdentityTokenLogin;

/** One image build, with everything the engine needs and nothing it may not see. */
export interface ImageBuildRequest {
  dockerfile: string;
  context: string;
  /**
   * The ignore file that applies (build-context.ts): the Dockerfile's own `<Dockerfile>.dockerignore`,
   * else the context's `.dockerignore`; absent when there is neither.
   */
  ignoreFile?: string;
  /** Full references (registry/name:tag) the image gets. */
  references: readonly string[];
  target?: string;
  buildArgs: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  /** Empty: the engine's own platform. */
  platforms: readonly string[];
  /**
   * Seconds since the epoch: the time files are stamped with where the layer cache does not fix
   * one (layer-cache.ts): the commit's, or for a rebuild with the lookup off, that of the image
   * already under these inputs (inputs-image.ts). Docker's BuildKit reads it as SOURCE_DATE_EPOCH.
   */
  timestamp?: number;
  layerCache: LayerCacheRequest;
  push: boolean;
  /** Handed to the engine on stdin or in a private auth file for the push; never in arguments. */
  login?: RegistryLogin;
  /** The user's own containers auth file, whose logins for other registries a build with a private auth file keeps. */
  userAuthFile?: string;
  /** The user's own docker config.json, whose logins for other registries docker's private config for a push keeps. */
  userDockerConfig: string;
  onLine?: (line: string) => void;
}

/** What a build reports beyond success: a failed cache export is a warning, never a failed build. */
export interface ImageBuildReport {
  /** The registry repository the engine imported the layer cache from and exported it to; absent when it did neither. */
  cacheRepository?: string;
  /** Why the layer cache could not be exported there; absent when it was. */
  cacheExportFailure?: string;
}

export interface ContainerEngine {
  readonly name: EngineName;
  buildImage(request: ImageBuildRequest): Promise<ImageBuildReport>;
}
