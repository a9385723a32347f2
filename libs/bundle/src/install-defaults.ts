/**
 * A release's compose file and .env template default to where the release was cut and published:
 * the registry its images were checked in (where its image-digests.txt names them), and the Gitea
 * repository upgrade.sh asks for the next release. The workspace's own files name the product's
 * upstream ones, which a team's fork does not release into: a server of the fork installed without
 * GITEA_REGISTRY would pull the upstream's images (which the digest check refuses as pushed again)
 * or none, and one installed from the tarball by hand would ask the upstream Gitea for its
 * upgrades, with whatever token it was given.
 */
import { giteaRepoProblem, giteaUrlProblem } from '@changemaker/gitea';
import { registryPrefixProblem } from '@changemaker/oci';
import type { GiteaLocation } from '@changemaker/release-contract';
import { InstallDefaultError } from './bundle-errors';

/** What the shipped files default to; a value left unset keeps the file's own. */
export interface InstallDefaults {
  registry?: string;
  gitea?: GiteaLocation;
}

/** `${GITEA_REGISTRY:-default}` or `${GITEA_REGISTRY-default}`: the private registry, and what it falls back to. */
const REGISTRY_EXPRESSION = /\$\{GITEA_REGISTRY(:?-)[^}]*\}/g;

/** The values are written into shipped files: one that names no registry or Gitea stops packaging. */
export function refuseUnusableDefaults(defaults: InstallDefaults): void {
  const problem =
    (defaults.registry === undefined ? undefined : registryPrefixProblem(defaults.registry, 'GITEA_REGISTRY')) ??
    (defaults.gitea === undefined ? undefined : (giteaUrlProblem(defaults.gitea.url) ?? giteaRepoProblem(defaults.gitea.repo)));
  if (problem) throw new InstallDefaultError(problem);
}

export function composeDefaultingTo(registry: string, composeText: string): string {
  return composeText.replace(REGISTRY_EXPRESSION, (_expression, operator: string) => `\${GITEA_REGISTRY${operator}${registry}}`);
}

/** Each assignment as config.sh's template_value reads it (`KEY=value` at the start of a line), set to the default. */
export function envTemplateWithDefaults(templateText: string, defaults: InstallDefaults): string {
  const values: Array<[string, string | undefined]> = [
    ['GITEA_REGISTRY', defaults.registry],
    ['GITEA_URL', defaults.gitea?.url],
    ['GITEA_REPO', defaults.gitea?.repo],
  ];
  return values.reduce((text, [key, value]) => (value === undefined ? text : text.replace(new RegExp(`^${key}=.*$`, 'gm'), () => `${key}=${value}`)), templateText);
}
