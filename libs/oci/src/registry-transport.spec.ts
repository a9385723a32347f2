import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpConnections, type HttpRequestOptions } from './http-connections';
import type { HttpResponse } from './http-response';
import { RegistryAuthError } from './oci-errors';
import { RegistryAuthenticator } from './registry-authenticator';
import { RegistryTransport } from './registry-transport';
import { defaultRetryPolicy } from './retry-policy';

describe('RegistryTransport.baseUrl', () => {
  const connections = new HttpConnections();
  afterAll(() => connections.close());
  const transport = new RegistryTransport({
    authenticator: new RegistryAuthenticator(async () => undefined, connections, 'test', defaultRetryPolicy),
    insecureRegistries: ['registry.lan:5000'],
    userAgent: 'test',
    retry: defaultRetryPolicy,
    connections,
  });

  it.each([
    ['127.0.0.1:5000', 'http://127.0.0.1:5000'],
    ['127.1.2.3:5000', 'http://127.1.2.3:5000'],
    ['localhost:5000', 'http://localhost:5000'],
    ['localhost', 'http://localhost'],
    ['[::1]:5000', 'http://[::1]:5000'],
    ['registry.lan:5000', 'http://registry.lan:5000'],
    ['gitea.bnkops.com', 'https://gitea.bnkops.com'],
    ['127.0.0.1.example.com', 'https://127.0.0.1.example.com'],
    ['docker.io', 'https://registry-1.docker.io'],
  ])('%s -> %s', (registry, url) => {
    expect(transport.baseUrl(registry)).toBe(url);
  });
});

/** The machine's network, kept to loopback: a request to any other host is recorded and refused here. */
class LoopbackOnlyConnections extends HttpConnections {
  readonly refused: string[] = [];

  override send(url: URL, options: HttpRequestOptions): Promise<HttpResponse> {
    if (url.hostname === '127.0.0.1') return super.send(url, options);
    this.refused.push(url.toString());
    return Promise.reject(new Error(`test: ${url.host} is off the machine`));
  }
}

describe('a Bearer challenge naming its token service', () => {
  let realm = '';
  const registry = createServer((_req, res) => res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="registry"` }).end());
  let host = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => registry.close(resolve)));

  function transportWith(connections: HttpConnections): RegistryTransport {
    const credentials = async () => ({ username: 'ci', password: 'realm-test-secret' });
    const retry = { ...defaultRetryPolicy, attempts: 1 };
    return new RegistryTransport({ authenticator: new RegistryAuthenticator(credentials, connections, 'test', retry), insecureRegistries: [], userAgent: 'test', retry, connections });
  }

  it.each(['http://token.example.net/token', 'ftp://token.example.net/token', '/token'])('refuses %s before sending the password anywhere', async (named) => {
    realm = named;
    const connections = new LoopbackOnlyConnections();
    try {
      const error = await transportWith(connections).send({ registry: host, method: 'GET', path: '/v2/team/app/manifests/1', scopes: ['repository:team/app:pull'] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryAuthError);
      expect((error as Error).message).toMatch(/^registry 127\.0\.0\.1:\d+ refused authentication: its 401 names (the token service \S+, which is not https, nor on this machine, nor listed in insecureRegistries|a token service \(Bearer realm\) that is not an absolute URL)/);
      expect((error as Error).message).not.toContain('realm-test-secret');
      expect(connections.refused).toEqual([]);
    } finally {
      connections.close();
    }
  });
});
