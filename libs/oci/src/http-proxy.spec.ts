import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { startForwardProxy, startUntrustedTlsServer, type ForwardProxy, type UntrustedTlsServer } from '@changemaker/testing';
import { HttpConnections } from './http-connections';
import { proxyFor, proxySettingsFrom, ProxySettingError } from './http-proxy';

describe('the proxy a URL is reached through', () => {
  const through = (url: string, env: NodeJS.ProcessEnv) => proxyFor(new URL(url), proxySettingsFrom(env))?.href;

  it('is HTTPS_PROXY for https URLs and HTTP_PROXY for http ones, in either case, as Go reads them', () => {
    expect(through('https://registry-1.docker.io/v2/', { HTTPS_PROXY: 'http://proxy.corp:3128' })).toBe('http://proxy.corp:3128/');
    expect(through('https://registry-1.docker.io/v2/', { https_proxy: 'proxy.corp:3128' })).toBe('http://proxy.corp:3128/');
    expect(through('https://registry-1.docker.io/v2/', { HTTP_PROXY: 'http://proxy.corp:3128' })).toBeUndefined();
    expect(through('http://gitea.corp:3000/api/v1', { http_proxy: 'http://proxy.corp:8080' })).toBe('http://proxy.corp:8080/');
    expect(through('http://gitea.corp:3000/api/v1', {})).toBeUndefined();
  });

  it('is none for this machine, whatever NO_PROXY says', () => {
    for (const url of ['https://localhost:5000/v2/', 'http://127.0.0.1:5000/v2/', 'https://[::1]:5000/v2/', 'http://app.localhost/']) {
      expect(through(url, { HTTPS_PROXY: 'http://proxy.corp:3128', HTTP_PROXY: 'http://proxy.corp:3128' })).toBeUndefined();
    }
  });

  it.each([
    ['*', 'https://gitea.corp/', true],
    ['gitea.corp', 'https://gitea.corp/', true],
    ['corp', 'https://gitea.corp/', true],
    ['.corp', 'https://gitea.corp/', true],
    ['*.corp', 'https://gitea.corp/', true],
    ['other.corp, gitea.corp', 'https://gitea.corp/', true],
    ['gitea.corp:443', 'https://gitea.corp/', true],
    ['gitea.corp:3000', 'https://gitea.corp/', false],
    ['tea.corp', 'https://gitea.corp/', false],
    ['10.1.2.3', 'https://10.1.2.3:5000/', true],
    ['10.1.2.3:5000', 'https://10.1.2.3:5000/', true],
    ['fd00::1', 'https://[fd00::1]/', true],
    ['[fd00::1]:443', 'https://[fd00::1]/', true],
    ['', 'https://gitea.corp/', false],
  ])('NO_PROXY=%s reaches %s directly: %s', (noProxy, url, direct) => {
    expect(through(url, { HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: noProxy }) === undefined).toBe(direct);
  });

  it('refuses a proxy address that is not an http one, without its credentials', () => {
    expect(() => proxySettingsFrom({ HTTPS_PROXY: 'https://ci:s3cret@proxy.corp:3128' })).toThrow(ProxySettingError);
    expect(() => proxySettingsFrom({ HTTPS_PROXY: 'https://ci:s3cret@proxy.corp:3128' })).toThrow(
      'HTTPS_PROXY is not an http:// proxy address (it starts "https"): set it like http://proxy.example.org:3128; an https:// proxy is not supported',
    );
  });
});

describe('calls through a forward proxy (the proxy resolves no names: every host below is routed to this machine)', () => {
  let plain: Server;
  let plainPort: number;
  let tls: UntrustedTlsServer;
  beforeAll(async () => {
    plain = createServer((request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end(`${request.method} ${request.url} host=${request.headers.host}`));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    plainPort = (plain.address() as AddressInfo).port;
    tls = await startUntrustedTlsServer((request, response) => response.writeHead(200).end(`tls ${request.url}`), 'gitea.corp.test');
  });
  afterAll(async () => {
    await new Promise((resolve) => plain.close(resolve));
    await tls.stop();
  });

  async function withProxy<T>(credentials: { user: string; password: string } | undefined, use: (proxy: ForwardProxy) => Promise<T>): Promise<T> {
    const proxy = await startForwardProxy({ 'registry.corp.test:5000': plainPort, 'gitea.corp.test:443': tls.port }, credentials);
    try {
      return await use(proxy);
    } finally {
      await proxy.stop();
    }
  }

  it('sends a plain-http request to the proxy whole, with its credentials, and reaches this machine directly', async () => {
    await withProxy({ user: 'ci', password: 'proxy-s3cret' }, async (proxy) => {
      const connections = new HttpConnections({ HTTP_PROXY: proxy.url });
      try {
        const answer = await connections.send(new URL('http://registry.corp.test:5000/v2/?n=1'), { method: 'GET', headers: {} });
        expect([answer.statusCode, await answer.text()]).toEqual([200, 'GET /v2/?n=1 host=registry.corp.test:5000']);
        expect(proxy.forwarded).toEqual(['http://registry.corp.test:5000/v2/?n=1']);
        expect(proxy.credentialsSeen).toEqual(['ci:proxy-s3cret']);
        const direct = await connections.send(new URL(`http://127.0.0.1:${plainPort}/v2/`), { method: 'GET', headers: {} });
        expect(await direct.text()).toBe(`GET /v2/ host=127.0.0.1:${plainPort}`);
        expect(proxy.forwarded).toHaveLength(1);
      } finally {
        connections.close();
      }
    });
  });

  it('tunnels https through CONNECT, TLS end to end: a certificate not trusted here is refused through the tunnel too', async () => {
    await withProxy(undefined, async (proxy) => {
      const connections = new HttpConnections({ HTTPS_PROXY: proxy.url });
      try {
        const failure = await connections.send(new URL('https://gitea.corp.test/api/v1/version'), { method: 'GET', headers: {} }).catch((error: unknown) => error);
        expect((failure as { code?: string }).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
        expect(proxy.tunnels).toEqual(['gitea.corp.test:443']);
      } finally {
        connections.close();
      }
    });
  });

  it('reaches an https server through the tunnel when its CA is trusted (NODE_EXTRA_CA_CERTS), keeping the tunnel for the next call', async () => {
    await withProxy(undefined, async (proxy) => {
      const program = [
        `const { HttpConnections } = require(${JSON.stringify(join(__dirname, 'http-connections'))});`,
        'const connections = new HttpConnections();',
        'const get = async (path) => (await connections.send(new URL(`https://gitea.corp.test${path}`), { method: "GET", headers: {} })).text();',
        '(async () => { console.log(await get("/one")); console.log(await get("/two")); connections.close(); })();',
      ].join('\n');
      const run = await execa(process.execPath, ['-r', '@swc-node/register', '-e', program], {
        env: { HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: tls.certificatePath },
        reject: false,
      });
      expect({ exitCode: run.exitCode, stdout: run.stdout }).toEqual({ exitCode: 0, stdout: 'tls /one\ntls /two' });
      expect(proxy.tunnels).toEqual(['gitea.corp.test:443']);
    });
  });

  it('says a proxy that wants credentials does, without showing any', async () => {
    await withProxy({ user: 'ci', password: 'proxy-s3cret' }, async (proxy) => {
      const unauthenticated = proxy.url.replace(/\/\/[^@]*@/, '//');
      const connections = new HttpConnections({ HTTPS_PROXY: unauthenticated });
      try {
        const failure = await connections.send(new URL('https://gitea.corp.test/api/v1/version'), { method: 'GET', headers: {} }).catch((error: unknown) => error);
        expect((failure as Error).message).toBe(
          `proxy ${new URL(unauthenticated).host} answered 407 to CONNECT gitea.corp.test:443: it wants credentials, given in the proxy URL (http://user:password@proxy:3128)`,
        );
      } finally {
        connections.close();
      }
    });
  });
});
