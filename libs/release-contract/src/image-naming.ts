/**
 * How the workspace's images are named and tagged, for every stage that builds, checks or ships
 * them (DESIGN.md, "Naming, the same everywhere").
 */
import { settingFrom } from './environment-setting';

export const defaultRegistry = 'gitea.bnkops.com/admin';

/** The repository of a project's image under the registry; {projectName} is the Nx project. */
export const defaultImageNamePattern = 'changemaker-{projectName}';

/** Tags every push gives an image; a release adds {@link releaseTagPattern}. */
export const defaultTagPatterns: readonly string[] = ['{sha}', 'latest'];

export const releaseTagPattern = 'v{version}';

export function serviceImageName(projectName: string, pattern: string = defaultImageNamePattern): string {
  return pattern.replaceAll('{projectName}', projectName);
}

/** A workspace project that ships an image, and the repository under the registry its release pushes it to. */
export interface WorkspaceImage {
  project: string;
  /** e.g. `changemaker-api`, from the project's imageName pattern. */
  repository: string;
}

/** The workspace project whose image `repository` (e.g. `changemaker-api`) holds, if any. */
export function projectOfRepository(repository: string, images: readonly WorkspaceImage[]): string | undefined {
  return images.find((image) => image.repository === repository)?.project;
}

/** The git tag and image tag of a release version: 1.2.3 -> v1.2.3. */
export function releaseTagOf(version: string): string {
  return `v${version}`;
}

/** How a message names the registry set in the plugin's options (which the image tasks and the product's release use) rather than GITEA_REGISTRY. */
export const registryOptionSetting = 'the registry option (the plugin options in nx.json, or nx release publish --registry)';

/** The registry to use: $GITEA_REGISTRY, else the product's default; set but empty is a SettingError. */
export function registryFrom(env: NodeJS.ProcessEnv): string {
  return settingFrom(env, 'GITEA_REGISTRY', defaultRegistry);
}
