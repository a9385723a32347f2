import { createApp } from './app';

describe('media-api', () => {
  const app = createApp();
  let baseUrl: string;
  const envBefore = { ...process.env };

  beforeAll(async () => {
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterEach(() => {
    process.env = { ...envBefore };
  });

  afterAll(() => app.close());

  it('answers GET /api/health with ok and the build it runs', async () => {
    process.env.APP_VERSION = '2.9.7';
    process.env.GIT_COMMIT = 'c2f12aa2bf';

    const response = await fetch(`${baseUrl}/api/health`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      status: 'ok',
      service: 'media-api',
      version: '2.9.7',
      commit: 'c2f12aa2bf',
    });
  });

  it('reports an unknown build when the image did not say', async () => {
    delete process.env.APP_VERSION;
    delete process.env.GIT_COMMIT;

    const response = await fetch(`${baseUrl}/api/health`);

    expect(await response.json()).toMatchObject({ version: 'unknown', commit: 'unknown' });
  });

  it('answers 404 outside its routes', async () => {
    const response = await fetch(`${baseUrl}/api/nothing-here`);

    expect(response.status).toBe(404);
  });
});
