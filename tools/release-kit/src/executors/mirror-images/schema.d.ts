export interface MirrorImagesOptions {
  manifest?: string;
  registry?: string;
  groups?: string[] | string;
  coreOnly?: boolean;
  dryRun?: boolean;
  concurrency?: number;
  platforms?: string[] | string;
  chunkSize?: number;
  insecureRegistries?: string[];
  json?: boolean;
  update?: boolean | string[] | string;
  replace?: boolean | string[] | string;
}
