import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline, type Readable } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { HttpResponse } from './http-response';
import { proxyAuthorization, proxyFor, proxySettingsFrom, tunnelThrough, type ProxySettings } from './http-proxy';

export interface HttpRequestOptions {
  method: string;
  headers: Record<string, string>;
  /** A stream is piped as it comes; when it fails, the request fails with its error. */
  body?: Buffer | Readable;
}

/** As many as the blob transfers a mirror run allows per registry host. */
const connectionsPerHost = 16;
/** Idle connections are closed before servers drop them under the next request. */
const idleTimeoutMs = 10_000;
const connectTimeoutMs = 10_000;
/** A connection silent this long (no answer, a stalled body) fails its request, which may be retried. */
const silenceTimeoutMs = 300_000;

export class HttpTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
}

/**
 * Keep-alive connection pools (plain and TLS) on Node's own HTTP client, which streams blob
 * bodies with less CPU than a JS parser and loads in a few milliseconds. Every request, HEAD
 * included, goes back to the pool when its body has been read or discarded.
 */
export class HttpConnections {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: connectionsPerHost, timeout: idleTimeoutMs });
  private readonly https = new HttpsAgent({ keepAlive: true, maxSockets: connectionsPerHost, timeout: idleTimeoutMs });
  private readonly proxies: ProxySettings;
  private readonly tunnels?: TunnelingAgent;

  /** Through the proxy the environment names (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as the engines go. */
  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.proxies = proxySettingsFrom(env);
    if (this.proxies.https) this.tunnels = new TunnelingAgent(this.proxies.https);
  }

  /** Resolves once the status and headers are in; network failures reject. */
  send(url: URL, options: HttpRequestOptions): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const request = this.open(url, options);
      request.once('response', (message) => resolve(new HttpResponse(message)));
      // After the response, a failure shows as an error of its body stream instead.
      request.on('error', reject);
      request.on('timeout', () => request.destroy(new HttpTimeoutError(`no answer from ${url.host} for ${silenceTimeoutMs / 1000} s`)));
      request.once('socket', (socket) => failUnlessConnectedInTime(request, socket, url));
      sendBody(request, options.body);
    });
  }

  private open(url: URL, { method, headers }: HttpRequestOptions): ClientRequest {
    const proxy = proxyFor(url, this.proxies);
    const timeout = silenceTimeoutMs;
    if (url.protocol === 'https:') return httpsRequest(url, { method, headers, agent: proxy ? this.tunnels : this.https, timeout });
    if (!proxy) return httpRequest(url, { method, headers, agent: this.http, timeout });
    // A plain-http request goes to the proxy whole, its target as an absolute URL.
    const throughProxy = { ...headers, host: url.host, ...proxyAuthorization(proxy) };
    return httpRequest({ host: proxy.hostname, port: proxy.port || 80, path: url.href, method, headers: throughProxy, agent: this.http, timeout });
  }

  /** Ends every connection, in use or idle: for when the requests are done. */
  close(): void {
    this.http.destroy();
    this.https.destroy();
    this.tunnels?.destroy();
  }
}

/** TLS connections to their hosts, each over a tunnel the proxy opens (CONNECT), pooled as the direct ones are. */
class TunnelingAgent extends HttpsAgent {
  constructor(private readonly proxy: URL) {
    super({ keepAlive: true, maxSockets: connectionsPerHost, timeout: idleTimeoutMs });
  }

  override createConnection(options: ClientRequestArgs, callback?: (error: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const host = String(options.host ?? options.hostname);
    const port = Number(options.port ?? 443);
    tunnelThrough(this.proxy, host, port, connectTimeoutMs).then(
      // No server name for an address: TLS sends names only.
      (socket) => callback?.(null, tlsConnect({ ...(options as ConnectionOptions), socket, servername: isIP(host) ? undefined : host })),
      (error: Error) => callback?.(error, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

function failUnlessConnectedInTime(request: ClientRequest, socket: Socket, url: URL): void {
  if (!socket.connecting) return;
  const timer = setTimeout(() => request.destroy(new HttpTimeoutError(`could not connect to ${url.host} within ${connectTimeoutMs / 1000} s`)), connectTimeoutMs);
  socket.once('connect', () => clearTimeout(timer));
  request.once('close', () => clearTimeout(timer));
}

function sendBody(request: ClientRequest, body: Buffer | Readable | undefined): void {
  if (body === undefined || Buffer.isBuffer(body)) {
    request.end(body);
    return;
  }
  // A failing source destroys the request with its error, which rejects send; a failing request stops the source.
  pipeline(body, request, () => undefined);
}
