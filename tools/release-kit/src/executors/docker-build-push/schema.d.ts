import type { NxReleaseVersionData } from '../../release/release-version';

export interface DockerBuildPushOptions {
  push: boolean;
  engine: 'auto' | 'docker' | 'podman' | 'buildah';
  registry?: string;
  imageName: string;
  tags: string[];
  /** Not `version`: Nx's CLI takes `--version` for its own and runs nothing. */
  imageVersion?: string;
  dockerfile?: string;
  context?: string;
  target?: string;
  buildArgs: Record<string, string>;
  platforms: string[];
  registryCache: boolean;
  cache: boolean;
  cacheRepository?: string;
  onDemand: boolean;
  resultFile: string;
  json: boolean;
  dryRun: boolean;
  releaseVersionFile?: string;
  nxReleaseVersionData?: NxReleaseVersionData;
  // Passed by nx release publish to every nx-release-publish task; not used for images.
  tag?: string;
  otp?: number;
  access?: string;
  firstRelease?: boolean;
}
