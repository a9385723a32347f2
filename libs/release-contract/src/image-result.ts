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
}

/** Workspace-relative; {projectName} is the Nx project. */
export const imageResultPath = 'dist/images/{projectName}.json';

export function imageResultPathOf(projectName: string, pattern: string = imageResultPath): string {
  return pattern.replaceAll('{projectName}', projectName);
}
