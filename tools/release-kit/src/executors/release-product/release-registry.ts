import { registryPrefixProblem } from '@changemaker/oci';
import { registryFrom, SettingError } from '@changemaker/release-contract';

/**
 * The registry a release is cut against: its release target's `registry` (the plugin's option, or
 * `nx release publish --registry`), which the image tasks pushed to as well, else GITEA_REGISTRY.
 * Its images are checked there and the manifest names it.
 */
export function releaseRegistryOf(option: string | undefined, env: NodeJS.ProcessEnv): string {
  const registry = option ?? registryFrom(env);
  const problem = registryPrefixProblem(registry, option ? 'the registry option (the plugin options in nx.json, or nx release publish --registry)' : 'GITEA_REGISTRY');
  if (problem) throw new SettingError(problem);
  return registry;
}
