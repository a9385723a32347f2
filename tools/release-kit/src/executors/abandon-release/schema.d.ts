export interface AbandonReleaseOptions {
  versionFile: string;
  gitRemote?: string;
  dryRun: boolean;
  json: boolean;
}
