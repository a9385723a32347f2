import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { pipeline, type Readable } from 'node:stream';
import { HttpResponse } from './http-response';

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

  /** Resolves once the status and headers are in; network failures reject. */
  send(url: URL, options: HttpRequestOptions): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const secure = url.protocol === 'https:';
      const request = (secure ? httpsRequest : httpRequest)(url, {
        method: options.method,
        headers: options.headers,
        agent: secure ? this.https : this.http,
        timeout: silenceTimeoutMs,
      });
      request.once('response', (message) => resolve(new HttpResponse(message)));
      // After the response, a failure shows as an error of its body stream instead.
      request.on('error', reject);
      request.on('timeout', () => request.destroy(new HttpTimeoutError(`no answer from ${url.host} for ${silenceTimeoutMs / 1000} s`)));
      request.once('socket', (socket) => failUnlessConnectedInTime(request, socket, url));
      sendBody(request, options.body);
    });
  }

  /** Ends every connection, in use or idle: for when the requests are done. */
  close(): void {
    this.http.destroy();
    this.https.destroy();
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
