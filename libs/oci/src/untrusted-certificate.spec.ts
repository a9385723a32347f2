import { startUntrustedTlsServer, type UntrustedTlsServer } from '@changemaker/testing';
import { HttpConnections } from './http-connections';
import { RegistryUnreachableError } from './oci-errors';
import { RegistryAuthenticator } from './registry-authenticator';
import { RegistryTransport } from './registry-transport';
import { defaultRetryPolicy } from './retry-policy';

describe('a registry or storage host whose TLS certificate is not trusted here (a private CA)', () => {
  let server: UntrustedTlsServer;
  beforeAll(async () => {
    server = await startUntrustedTlsServer((_request, response) => response.writeHead(200).end());
  });
  afterAll(() => server.stop());

  it('fails at the first try, saying that NODE_EXTRA_CA_CERTS is how Node trusts that CA: no retry mends a certificate', async () => {
    const connections = new HttpConnections();
    const retry = { ...defaultRetryPolicy, attempts: 6, baseDelayMs: 1, maxDelayMs: 1 };
    const transport = new RegistryTransport({ authenticator: new RegistryAuthenticator(async () => undefined, connections, 'test', retry), insecureRegistries: [], userAgent: 'test', retry, connections });
    try {
      // A registry on loopback is spoken to in plain http; an upload location may name an https storage host.
      const failure = await transport.send({ registry: '127.0.0.1:9', method: 'GET', path: `${server.url}/v2/`, scopes: [] }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RegistryUnreachableError);
      expect((failure as Error).message).toBe(
        "registry 127.0.0.1:9 is unreachable: DEPTH_ZERO_SELF_SIGNED_CERT self-signed certificate; Node trusts its own list of CAs, not the system's: for a server whose certificate comes from a private CA, set NODE_EXTRA_CA_CERTS to that CA's certificate (a PEM file)",
      );
      expect(server.connections()).toBe(1);
    } finally {
      connections.close();
    }
  });
});
