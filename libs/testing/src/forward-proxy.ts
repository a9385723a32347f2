import { createServer, request as httpRequest } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface ForwardProxy {
  /** http://127.0.0.1:<port>, with `user:password@` when it asks for credentials. */
  url: string;
  /** The authorities tunnelled to (CONNECT host:port), in order. */
  tunnels: string[];
  /** The absolute URLs of the plain-http requests it forwarded, in order. */
  forwarded: string[];
  /** Each Proxy-Authorization it was sent, as decoded `user:password`. */
  credentialsSeen: string[];
  stop(): Promise<void>;
}

/**
 * An HTTP forward proxy on loopback, as a company network has (squid's CONNECT tunnels and
 * absolute-URI requests). It resolves no names: `routes` maps each `host:port` a client asks for to
 * a port on this machine, so a test can use any host name and send nothing off the machine; an
 * unknown one is answered 502. With `credentials`, a request without them is answered 407.
 */
export async function startForwardProxy(routes: Record<string, number>, credentials?: { user: string; password: string }): Promise<ForwardProxy> {
  const tunnels: string[] = [];
  const forwarded: string[] = [];
  const credentialsSeen: string[] = [];
  const authorised = (header: string | undefined): boolean => {
    const decoded = header?.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : undefined;
    if (decoded !== undefined) credentialsSeen.push(decoded);
    return !credentials || decoded === `${credentials.user}:${credentials.password}`;
  };
  const server = createServer((request, response) => {
    if (!authorised(request.headers['proxy-authorization'])) return void response.writeHead(407, { 'proxy-authenticate': 'Basic realm="proxy"' }).end();
    const target = new URL(request.url ?? '');
    forwarded.push(target.href);
    const port = routes[target.host];
    if (port === undefined) return void response.writeHead(502).end();
    const headers = { ...request.headers };
    delete headers['proxy-authorization'];
    const upstream = httpRequest({ host: '127.0.0.1', port, method: request.method, path: `${target.pathname}${target.search}`, headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.on('connect', (request, client: Socket, head: Buffer) => {
    if (!authorised(request.headers['proxy-authorization'])) return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\n\r\n');
    const authority = request.url ?? '';
    tunnels.push(authority);
    const port = routes[authority];
    if (port === undefined) return void client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    const upstream = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: credentials ? `http://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@${address}` : `http://${address}`,
    tunnels,
    forwarded,
    credentialsSeen,
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
