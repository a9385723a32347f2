export interface PackageReleaseOptions {
  tag: string;
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
}
