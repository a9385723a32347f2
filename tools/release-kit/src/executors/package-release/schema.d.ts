export interface PackageReleaseOptions {
  /** A number when the command line gave one (`--tag 1.2`). */
  tag: string | number;
  dryRun: boolean;
  outputDir: string;
  json: boolean;
  sourceRoot: string;
  bundleRoot: string;
  sources: string[];
  renames: Record<string, string>;
  emptyDirectories: string[];
  composeFile: string;
  mirrorManifest: string;
  // publish-release's own options, which its dependsOn (params: forward) passes on.
  inputDir?: string;
  notesFile?: string;
  replace?: boolean;
  draft?: boolean;
  prerelease?: boolean;
  retries?: number;
  retryDelay?: number;
}
