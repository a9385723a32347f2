/** A setting from the environment that is set in a way no one can mean; its message says what to do. */
export class SettingError extends Error {
  override readonly name = 'SettingError';
}

/**
 * $name, else `fallback` when it is unset. Set but empty is refused, not read as unset: a CI
 * variable or secret that expanded to nothing would otherwise send the release, and the registry
 * credentials that go with it, to the product's public default.
 */
export function settingFrom(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name];
  if (value === undefined) return fallback;
  if (value.trim() === '') throw new SettingError(`${name} is set but empty: set it, or unset it to use the default ${fallback}`);
  return value;
}
