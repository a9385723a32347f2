/**
 * What docker-build / docker-push record about the image of one project, in
 * {@link imageResultPath}, so that later stages (the release summary) know what was built.
 */
export interface ImageResult {
  project: string;
  /** registry/name without a tag. */
  image: string;
  references: string[];
  /** The pushed manifest's digest; absent when nothing was pushed. */
  digest?: string;
  /** False when the registry already held an image of the same inputs and only tags were added. */
  built: boolean;
  inputsTag: string;
  engine?: string;
  commit: string;
  /** How the layer cache was used; absent when nothing was built, or the stages built run no command (nothing to cache). */
  layerCache?: LayerCacheUse;
}

export interface LayerCacheUse {
  /** False with --no-cache. */
  reused: boolean;
  /** The registry repository the cache was exported to (and imported from). */
  repository?: string;
  /** Why the export to the registry failed: a warning, the image was still pushed. */
  exportFailure?: string;
}

/** Workspace-relative; {projectName} is the Nx project. */
export const imageResultPath = 'dist/images/{projectName}.json';

export function imageResultPathOf(projectName: string, pattern: string = imageResultPath): string {
  return pattern.replaceAll('{projectName}', projectName);
}
