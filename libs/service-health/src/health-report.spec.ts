import { healthReport } from './health-report';

describe('healthReport', () => {
  it('reports the version and commit the image was built with', () => {
    const report = healthReport('api', { APP_VERSION: '2.3.0', GIT_COMMIT: 'c2f12aa2bf' });

    expect(report).toEqual({ status: 'ok', service: 'api', version: '2.3.0', commit: 'c2f12aa2bf' });
  });

  it('says "unknown" for a version or commit that is absent or empty', () => {
    expect(healthReport('media-api', {})).toEqual({
      status: 'ok',
      service: 'media-api',
      version: 'unknown',
      commit: 'unknown',
    });
    expect(healthReport('media-api', { APP_VERSION: '', GIT_COMMIT: '' }).version).toBe('unknown');
  });
});
