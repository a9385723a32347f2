export interface PublishReleaseOptions {
  tag?: string;
  inputDir: string;
  bundleRoot: string;
  notesFile?: string;
  replace: boolean;
  dryRun: boolean;
  draft: boolean;
  prerelease: boolean;
  json: boolean;
  retries: number;
  retryDelay: number;
}
