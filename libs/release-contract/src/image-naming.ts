/**
 * How the workspace's images are named and tagged, for every stage that builds, checks or ships
 * them (DESIGN.md, "Naming, the same everywhere").
 */
import { settingFrom } from './environment-setting';

export const defaultRegistry = 'gitea.bnkops.com/admin';

export const serviceImagePrefix = 'changemaker-';

/** The repository of a project's image under the registry; {projectName} is the Nx project. */
export const defaultImageNamePattern = `${serviceImagePrefix}{projectName}`;

/** Tags every push gives an image; a release adds {@link releaseTagPattern}. */
export const defaultTagPatterns: readonly string[] = ['{sha}', 'latest'];

export const releaseTagPattern = 'v{version}';

export function serviceImageName(projectName: string, pattern: string = defaultImageNamePattern): string {
  return pattern.replaceAll('{projectName}', projectName);
}

/** The service a `changemaker-<service>` repository holds, when it is one of `services`. */
export function serviceOfImageName(name: string, services: readonly string[]): string | undefined {
  if (!name.startsWith(serviceImagePrefix)) return undefined;
  const service = name.slice(serviceImagePrefix.length);
  return services.includes(service) ? service : undefined;
}

/** The git tag and image tag of a release version: 1.2.3 -> v1.2.3. */
export function releaseTagOf(version: string): string {
  return `v${version}`;
}

/** The registry to use: $GITEA_REGISTRY, else the product's default; set but empty is a SettingError. */
export function registryFrom(env: NodeJS.ProcessEnv): string {
  return settingFrom(env, 'GITEA_REGISTRY', defaultRegistry);
}
