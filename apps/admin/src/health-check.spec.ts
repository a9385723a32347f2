import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { checkHealth } from './health-check';

describe('checkHealth', () => {
  let server: Server;
  let baseUrl: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const answers: Record<string, [number, string]> = {
        '/healthy': [200, '{"status":"ok","service":"api","version":"2.9.7","commit":"c2f12aa2bf"}'],
        '/degraded': [200, '{"status":"starting"}'],
        '/anonymous': [200, '{"status":"ok"}'],
        '/broken': [502, 'Bad Gateway'],
      };
      const [status, body] = answers[request.url ?? ''] ?? [404, 'Not Found'];
      response.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('shows a healthy service as up with its version and commit', async () => {
    expect(await checkHealth('api', `${baseUrl}/healthy`)).toEqual({
      service: 'api',
      up: true,
      detail: 'version 2.9.7, commit c2f12aa2bf',
    });
  });

  it('shows a healthy service that does not say its build as up, build unknown', async () => {
    expect(await checkHealth('api', `${baseUrl}/anonymous`)).toEqual({
      service: 'api',
      up: true,
      detail: 'version unknown, commit unknown',
    });
  });

  it('shows a service that answers but is not ok as down, saying what it answered', async () => {
    expect(await checkHealth('api', `${baseUrl}/degraded`)).toEqual({ service: 'api', up: false, detail: 'status starting' });
  });

  it('shows an error status from the proxy as down', async () => {
    expect(await checkHealth('media-api', `${baseUrl}/broken`)).toEqual({
      service: 'media-api',
      up: false,
      detail: 'HTTP 502',
    });
  });

  it('shows an unreachable service as down instead of failing the page', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));

    const health = await checkHealth('media-api', `http://127.0.0.1:${port}/api/health`);

    expect(health).toMatchObject({ service: 'media-api', up: false });
    expect(health.detail).not.toBe('');
  });
});
