import { registryPrefixProblem } from '@changemaker/oci';
import { registryFrom, registryOptionSetting, SettingError } from '@changemaker/release-contract';

/**
 * The registry a release is cut against: its release target's `registry` (the plugin's option, or
 * `nx release publish --registry`), which the image tasks pushed to as well, else GITEA_REGISTRY.
 * Its images are checked there and the manifest names it. One that cannot be used is a SettingError
 * naming where it came from.
 */
export function releaseRegistryOf(option: string | undefined, env: NodeJS.ProcessEnv): string {
  const registry = option ?? registryFrom(env);
  const problem = registryPrefixProblem(registry, option ? registryOptionSetting : 'GITEA_REGISTRY');
  if (problem) throw new SettingError(problem);
  return registry;
}
