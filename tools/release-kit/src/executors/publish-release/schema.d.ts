export interface PublishReleaseOptions {
  /** A number when the command line gave one (`--tag 1.2`). */
  tag?: string | number;
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
