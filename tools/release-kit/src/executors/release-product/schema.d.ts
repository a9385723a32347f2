import type { NxReleaseVersionData } from '../../release/release-version';

export interface ReleaseProductOptions {
  versionFile: string;
  packageTarget: string;
  gitRemote: string;
  prerelease: boolean;
  dryRun: boolean;
  json: boolean;
  nxReleaseVersionData?: NxReleaseVersionData;
  // Passed by nx release publish to every nx-release-publish task; not used here.
  registry?: string;
  tag?: string;
  otp?: number;
  access?: string;
  firstRelease?: boolean;
}
