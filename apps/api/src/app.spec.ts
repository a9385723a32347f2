import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { createApp } from './app';

describe('api', () => {
  let server: Server;
  let baseUrl: string;
  const envBefore = { ...process.env };

  beforeAll(async () => {
    server = await new Promise<Server>((resolve, reject) => {
      const listening = createApp().listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(listening)));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  afterEach(() => {
    process.env = { ...envBefore };
  });

  it('answers GET /api/health with ok and the build it runs', async () => {
    process.env.APP_VERSION = '2.9.7';
    process.env.GIT_COMMIT = 'c2f12aa2bf';

    const response = await fetch(`${baseUrl}/api/health`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ status: 'ok', service: 'api', version: '2.9.7', commit: 'c2f12aa2bf' });
  });

  it('answers 404 outside its routes', async () => {
    const response = await fetch(`${baseUrl}/api/nothing-here`);

    expect(response.status).toBe(404);
  });
});
