import { OciError, registryPrefixProblem } from '@changemaker/oci';
import { registryFrom } from '@changemaker/release-contract';

/**
 * The registry a release is cut against: `nx release publish --registry`, which the image tasks
 * pushed to as well, else GITEA_REGISTRY. Its images are checked there and the manifest names it.
 */
export function releaseRegistryOf(option: string | undefined, env: NodeJS.ProcessEnv): string {
  const registry = option ?? registryFrom(env);
  const problem = registryPrefixProblem(registry, option ? '--registry' : 'GITEA_REGISTRY');
  if (problem) throw new OciError(problem);
  return registry;
}
