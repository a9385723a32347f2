import type { NxReleaseVersionData } from '../../release/release-version';

export interface ReleaseProductOptions {
  versionFile: string;
  packageTarget: string;
  gitRemote: string;
  prerelease: boolean;
  dryRun: boolean;
  json: boolean;
  nxReleaseVersionData?: NxReleaseVersionData;
}
