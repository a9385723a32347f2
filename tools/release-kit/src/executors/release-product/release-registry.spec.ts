import { releaseRegistryOf } from './release-registry';

describe('the registry a release is cut against', () => {
  it('is nx release publish --registry, where the image tasks pushed, before GITEA_REGISTRY', () => {
    expect(releaseRegistryOf('127.0.0.1:5000/other', { GITEA_REGISTRY: '127.0.0.1:5000/admin' })).toBe('127.0.0.1:5000/other');
    expect(releaseRegistryOf(undefined, { GITEA_REGISTRY: '127.0.0.1:5000/admin' })).toBe('127.0.0.1:5000/admin');
  });

  it('refuses a malformed one in one line naming where it came from', () => {
    expect(() => releaseRegistryOf('http://127.0.0.1:5000/other', {})).toThrow(/^--registry "http:\/\/127\.0\.0\.1:5000\/other" is not a registry host/);
    expect(() => releaseRegistryOf(undefined, { GITEA_REGISTRY: '127.0.0.1:99999/admin' })).toThrow(/^GITEA_REGISTRY "127\.0\.0\.1:99999\/admin" is not a registry host/);
  });
});
