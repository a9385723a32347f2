/**
 * install.sh (and upgrade.sh, which sources it) spells the release contract's names in bash, which
 * cannot import them: `bundle_name=changemaker-lite` and the like near its top. A release read by
 * other names than its scripts' own could be downloaded by no server.
 */

/** The value of a plain top-level `name=value` (or `name="value"`) in install.sh; undefined when it has none. */
export function installScriptSetting(installScript: string, name: string): string | undefined {
  const value = new RegExp(`^${name}=(.*)$`, 'm').exec(installScript)?.[1];
  return value?.replace(/^"(.*)"$/, '$1');
}

/** install.sh's name for the tarball's top directory and the stem of its file name (bundleRoot). */
export const bundleNameSetting = 'bundle_name';
