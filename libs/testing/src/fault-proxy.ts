import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type Fault =
  /** Answer with this status (and headers, e.g. Retry-After, and a body: an error JSON unless given) instead of forwarding. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Close the connection before any answer. */
  | { kind: 'drop' }
  /** Forward, then cut the connection after this many body bytes (the upload's, else the download's). */
  | { kind: 'drop-mid-body'; afterBytes: number }
  /** Answer 307 to the same path on another host, as registries on object storage do for blobs. */
  | { kind: 'redirect'; toHost: string }
  /**
   * Forward only the first `bytes` (fewer than the chunk has) of an upload PATCH to the
   * registry, as a shorter chunk it accepts, then cut the client's connection before any
   * answer: the registry holds part of a chunk the client cannot know arrived.
   */
  | { kind: 'partial-chunk'; bytes: number }
  /** Forward, then change one header of the registry's answer, to make it answer as another registry does. */
  | { kind: 'rewrite-header'; header: string; rewrite: (value: string | undefined) => string };

export interface FaultRule {
  method?: string;
  path?: RegExp;
  fault: Fault;
  /** How many matching requests get the fault; later ones pass through. */
  times: number;
  /** Only requests with this Content-Range, e.g. to hit the third chunk of an upload. */
  contentRange?: string;
}

export interface FaultProxyOptions {
  /**
   * The CNCF registry signs an upload's offset into the `_state` of every Location it issues
   * and drops a session asked about with an outdated one, so once it took part of a chunk it
   * can never tell the client how much. With this set the proxy swaps in the latest `_state`
   * the registry issued for the upload, which makes it behave like registries that keep
   * upload sessions server-side (zot, Quay, the cloud registries) and answer status queries.
   */
  serverSideUploadState?: boolean;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  /** The status the client saw; undefined when the connection was cut. */
  status?: number;
  fault?: Fault['kind'];
  /** Whether the request carried an Authorization header (its value is never recorded). */
  authorized: boolean;
  /** Its Content-Range header, e.g. the span of an upload chunk. */
  contentRange?: string;
  /** Request body bytes the proxy read from the client, e.g. to check an upload resent nothing it need not. */
  bodyBytes: number;
}

export interface FaultProxy {
  /** host:port to use in image references instead of the upstream's. */
  host: string;
  requests: ProxiedRequest[];
  /** TCP connections clients opened to the proxy so far, to check they reuse them. */
  readonly connections: number;
  addFault(rule: FaultRule): void;
  stop(): Promise<void>;
}

/**
 * An HTTP proxy on loopback between a client and a registry that injects faults on chosen
 * requests (500s, 429 with Retry-After, dropped connections, connections cut mid-body) and
 * records every request, so tests can count what a client really sent.
 */
export async function startFaultProxy(upstreamHost: string, rules: FaultRule[] = [], options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const requests: ProxiedRequest[] = [];
  const uploads = new UploadStates();
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((req, res) => {
    const record: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      authorized: req.headers.authorization !== undefined,
      contentRange: req.headers['content-range'],
      bodyBytes: 0,
    };
    requests.push(record);
    req.on('data', (chunk: Buffer) => (record.bodyBytes += chunk.length));
    if (options.serverSideUploadState) req.url = uploads.latest(req.url ?? '/');
    const rule = rules.find((r) => r.times > 0 && (!r.method || r.method === req.method) && (!r.path || r.path.test(record.path)) && (!r.contentRange || r.contentRange === record.contentRange));
    if (rule) rule.times--;
    handle(req, res, upstreamHost, record, rule?.fault, uploads);
  });
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    get connections() {
      return connections;
    },
    addFault: (rule) => rules.push(rule),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function handle(req: IncomingMessage, res: ServerResponse, upstreamHost: string, record: ProxiedRequest, fault: Fault | undefined, uploads: UploadStates): void {
  record.fault = fault?.kind;
  if (fault?.kind === 'partial-chunk') return forwardPartOfChunk(req, upstreamHost, fault.bytes, uploads);
  if (fault?.kind === 'drop') {
    req.socket.destroy();
    return;
  }
  if (fault?.kind === 'redirect') {
    req.resume();
    record.status = 307;
    res.writeHead(307, { location: `http://${fault.toHost}${req.url ?? '/'}`, 'content-length': '0' });
    res.end();
    return;
  }
  if (fault?.kind === 'status') {
    req.resume();
    req.on('end', () => {
      record.status = fault.status;
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(fault.body ?? JSON.stringify({ errors: [{ code: 'INJECTED', message: `fault injected by the test proxy: ${fault.status}` }] }));
    });
    return;
  }
  const cutUpload = fault?.kind === 'drop-mid-body' && hasRequestBody(req) ? fault.afterBytes : undefined;
  let uploadWasCut = false;
  const hangUpOnClient = () => req.socket.destroy();
  const [hostname, port] = upstreamHost.split(':');
  const upstream = httpRequest({ hostname, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (answer) => {
    if (uploadWasCut) {
      answer.resume();
      return hangUpOnClient();
    }
    record.status = answer.statusCode;
    uploads.issued(answer.headers.location);
    if (fault?.kind === 'rewrite-header') answer.headers[fault.header] = fault.rewrite(answer.headers[fault.header] as string | undefined);
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    const cutDownload = fault?.kind === 'drop-mid-body' && !hasRequestBody(req) ? fault.afterBytes : undefined;
    pipeWithCut(answer, res, cutDownload, () => {
      record.status = undefined;
      res.socket?.destroy();
    });
  });
  upstream.on('error', () => res.socket?.destroy());
  // The registry reads the cut body to its end and answers before the client hears of the
  // break; otherwise what the client asks next races the registry's write of those bytes.
  pipeWithCut(req, upstream, cutUpload, () => {
    uploadWasCut = true;
    upstream.socket?.once('close', hangUpOnClient);
    upstream.socket?.end();
  });
}

function hasRequestBody(req: IncomingMessage): boolean {
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

function pipeWithCut(from: IncomingMessage, to: NodeJS.WritableStream, cutAfter: number | undefined, cut: () => void): void {
  let passed = 0;
  from.on('data', (chunk: Buffer) => {
    if (cutAfter !== undefined && passed + chunk.length > cutAfter) {
      from.removeAllListeners('data');
      from.pause();
      to.write(chunk.subarray(0, Math.max(0, cutAfter - passed)), () => cut());
      return;
    }
    passed += chunk.length;
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('end', () => to.end());
}

/** Sends the registry the first `bytes` of a chunk as a complete PATCH, then hangs up on the client. */
function forwardPartOfChunk(req: IncomingMessage, upstreamHost: string, bytes: number, uploads: UploadStates): void {
  const start = Number(/^(\d+)-/.exec(req.headers['content-range'] ?? '')?.[1] ?? 0);
  const headers = { ...req.headers, 'content-length': String(bytes), 'content-range': `${start}-${start + bytes - 1}` };
  const [hostname, port] = upstreamHost.split(':');
  const upstream = httpRequest({ hostname, port: Number(port), method: req.method, path: req.url, headers }, (answer) => {
    uploads.issued(answer.headers.location);
    answer.resume();
    answer.on('end', () => req.socket.destroy());
  });
  upstream.on('error', () => req.socket.destroy());
  pipeWithCut(req, upstream, bytes, () => upstream.end());
}

/** The latest `_state` the registry issued per upload session, keyed by the session's path. */
class UploadStates {
  private readonly stateByPath = new Map<string, string>();

  issued(location: string | undefined): void {
    const url = location ? new URL(location, 'http://registry') : undefined;
    const state = url?.searchParams.get('_state');
    if (url && state && url.pathname.includes('/blobs/uploads/')) this.stateByPath.set(url.pathname, state);
  }

  /** The request path with its upload's latest `_state`, or unchanged. */
  latest(path: string): string {
    const url = new URL(path, 'http://registry');
    const state = this.stateByPath.get(url.pathname);
    if (!state || !url.searchParams.has('_state')) return path;
    url.searchParams.set('_state', state);
    return `${url.pathname}${url.search}`;
  }
}
