import { SettingError } from '@changemaker/release-contract';
import { releaseRegistryOf } from './release-registry';

describe('releaseRegistryOf: the registry a release is cut against', () => {
  it("is the release target's registry (the plugin's option, or nx release publish --registry), where the image tasks pushed, before GITEA_REGISTRY", () => {
    expect(releaseRegistryOf('127.0.0.1:5000/other', { GITEA_REGISTRY: '127.0.0.1:5000/admin' })).toBe('127.0.0.1:5000/other');
    expect(releaseRegistryOf(undefined, { GITEA_REGISTRY: '127.0.0.1:5000/admin' })).toBe('127.0.0.1:5000/admin');
  });

  it('refuses a malformed one in one line naming where it came from', () => {
    expect(() => releaseRegistryOf('http://127.0.0.1:5000/other', {})).toThrow(
      /^the registry option \(the plugin options in nx\.json, or nx release publish --registry\) "http:\/\/127\.0\.0\.1:5000\/other" is not a registry host/,
    );
    expect(() => releaseRegistryOf('http://127.0.0.1:5000/other', {})).toThrow(SettingError);
    expect(() => releaseRegistryOf(undefined, { GITEA_REGISTRY: '127.0.0.1:99999/admin' })).toThrow(/^GITEA_REGISTRY "127\.0\.0\.1:99999\/admin" is not a registry host/);
  });
});
