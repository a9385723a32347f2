import { layerCacheFor } from './layer-cache';

const settings = { registry: '127.0.0.1:5000/admin', imageName: 'changemaker-api', push: true, runsCommands: true };

describe('layerCacheFor', () => {
  it('keeps the cache beside the image by default, and reuses it', () => {
    expect(layerCacheFor(settings)).toEqual({ enabled: true, reuse: true, repository: '127.0.0.1:5000/admin/changemaker-api-cache' });
  });

  it('takes a repository name under the registry, or a full host/namespace/name', () => {
    expect(layerCacheFor({ ...settings, cacheRepository: 'ci/layers' }).repository).toBe('127.0.0.1:5000/admin/ci/layers');
    expect(layerCacheFor({ ...settings, cacheRepository: 'cache.example.com:5000/team/layers' }).repository).toBe('cache.example.com:5000/team/layers');
    expect(layerCacheFor({ ...settings, cacheRepository: 'localhost/layers' }).repository).toBe('localhost/layers');
  });

  it('--no-cache builds every step and still refreshes the registry cache', () => {
    expect(layerCacheFor({ ...settings, cache: false })).toEqual({ enabled: true, reuse: false, repository: '127.0.0.1:5000/admin/changemaker-api-cache' });
  });

  it('a build without a push keeps to the local cache: it sends nothing to the registry', () => {
    expect(layerCacheFor({ ...settings, push: false })).toEqual({ enabled: true, reuse: true });
  });

  it('is off for a build that runs no command: there is nothing to save', () => {
    expect(layerCacheFor({ ...settings, runsCommands: false })).toEqual({ enabled: false, reuse: true });
  });

  it.each([
    ['with a tag', 'changemaker-api-cache:buildcache', /has a tag or digest/],
    ['with upper case', 'Changemaker/Cache', /not a valid name component/],
  ])('refuses a cache repository %s, in one line saying what to set', (_, cacheRepository, reason) => {
    const refusal = () => layerCacheFor({ ...settings, cacheRepository });
    expect(refusal).toThrow(reason);
    expect(refusal).toThrow(/invalid cache repository ".*": .*Set "cacheRepository" to a repository name/);
  });
});
