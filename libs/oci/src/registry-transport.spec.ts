import { HttpConnections } from './http-connections';
import { RegistryAuthenticator } from './registry-authenticator';
import { RegistryTransport } from './registry-transport';
import { defaultRetryPolicy } from './retry-policy';

describe('RegistryTransport.baseUrl', () => {
  const connections = new HttpConnections();
  afterAll(() => connections.close());
  const transport = new RegistryTransport({
    authenticator: new RegistryAuthenticator(async () => undefined, connections, 'test'),
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
