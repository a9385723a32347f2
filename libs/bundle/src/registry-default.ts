/**
 * A release's compose file and .env template default to the registry the release was cut against,
 * where its images were checked and where its image-digests.txt names them. The workspace's own
 * files name the product's upstream registry, which a team's fork does not release into: a server
 * of the fork installed without GITEA_REGISTRY would pull the upstream's images (which the digest
 * check refuses as pushed again) or none at all.
 */
import { registryPrefixProblem } from '@changemaker/oci';
import { RegistrySettingError } from './bundle-errors';

/** `${GITEA_REGISTRY:-default}` or `${GITEA_REGISTRY-default}`: the private registry, and what it falls back to. */
const REGISTRY_EXPRESSION = /\$\{GITEA_REGISTRY(:?-)[^}]*\}/g;
/** The template's assignment, as config.sh's template_value reads it. */
const TEMPLATE_ASSIGNMENT = /^GITEA_REGISTRY=.*$/gm;

/** The registry is written into the shipped files: one that names no registry stops packaging. */
export function refuseUnusableRegistry(registry: string): void {
  const problem = registryPrefixProblem(registry, 'GITEA_REGISTRY');
  if (problem) throw new RegistrySettingError(problem);
}

export function composeDefaultingTo(registry: string, composeText: string): string {
  return composeText.replace(REGISTRY_EXPRESSION, (_expression, operator: string) => `\${GITEA_REGISTRY${operator}${registry}}`);
}

export function envTemplateDefaultingTo(registry: string, templateText: string): string {
  return templateText.replace(TEMPLATE_ASSIGNMENT, () => `GITEA_REGISTRY=${registry}`);
}
