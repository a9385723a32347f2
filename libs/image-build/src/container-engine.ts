export const engineNames = ['docker', 'podman', 'buildah'] as const;
export type EngineName = (typeof engineNames)[number];

export interface RegistryLogin {
  host: string;
  username: string;
  password: string;
}

/** One image build, with everything the engine needs and nothing it may not see. */
export interface ImageBuildRequest {
  dockerfile: string;
  context: string;
  /** Full references (registry/name:tag) the image gets. */
  references: readonly string[];
  target?: string;
  buildArgs: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  /** Empty: the engine's own platform. */
  platforms: readonly string[];
  /** Seconds since the epoch for the image's created time, so equal inputs give equal images. */
  timestamp?: number;
  push: boolean;
  /** Handed to the engine on stdin for the push; never in arguments. */
  login?: RegistryLogin;
  onLine?: (line: string) => void;
}

export interface ContainerEngine {
  readonly name: EngineName;
  buildImage(request: ImageBuildRequest): Promise<void>;
}
