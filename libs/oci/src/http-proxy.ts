import { request as httpRequest } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { isLoopbackRegistry } from './loopback-host';

/**
 * The proxy environment variables as the engines read them (Go's net/http: docker, buildah, podman),
 * so that the toolchain's own calls go where the images' do: HTTPS_PROXY for https URLs, HTTP_PROXY
 * for http ones (either case), NO_PROXY for the hosts reached directly, and never a proxy for this
 * machine (localhost, loopback addresses).
 */
export interface ProxySettings {
  https?: URL;
  http?: URL;
  noProxy: string;
}

export class ProxySettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProxySettingError';
  }
}

export function proxySettingsFrom(env: NodeJS.ProcessEnv): ProxySettings {
  return {
    https: proxyUrl(env, 'HTTPS_PROXY'),
    http: proxyUrl(env, 'HTTP_PROXY'),
    noProxy: env['NO_PROXY'] ?? env['no_proxy'] ?? '',
  };
}

/** The proxy `target` is reached through, or undefined to reach it directly. */
export function proxyFor(target: URL, settings: ProxySettings): URL | undefined {
  const proxy = target.protocol === 'https:' ? settings.https : settings.http;
  if (!proxy || isThisMachine(target) || listedInNoProxy(target, settings.noProxy)) return undefined;
  return proxy;
}

/** A proxy's name for messages: its host and port, never its credentials. */
export function proxyName(proxy: URL): string {
  return proxy.host;
}

/** The Proxy-Authorization header a proxy URL with credentials (http://user:password@proxy:3128) asks for. */
export function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

/** A TCP tunnel to host:port through `proxy` (HTTP CONNECT), for TLS to run over; given up after `timeoutMs`. */
export function tunnelThrough(proxy: URL, host: string, port: number, timeoutMs: number): Promise<Socket> {
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    const request = httpRequest({
      host: proxy.hostname,
      port: proxy.port || 80,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...proxyAuthorization(proxy) },
    });
    // A timer, not the socket's timeout, which would stay on the tunnel and cut a slow answer later.
    const timer = setTimeout(() => request.destroy(Object.assign(new Error(`no tunnel to ${authority} in ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })), timeoutMs);
    request.once('close', () => clearTimeout(timer));
    request.once('connect', (response, socket) => {
      clearTimeout(timer);
      if (response.statusCode === 200) return resolve(socket);
      socket.destroy();
      const hint = response.statusCode === 407 ? ': it wants credentials, given in the proxy URL (http://user:password@proxy:3128)' : '';
      reject(Object.assign(new Error(`proxy ${proxyName(proxy)} answered ${response.statusCode} to CONNECT ${authority}${hint}`), { code: 'EPROXY' }));
    });
    request.once('error', (error: NodeJS.ErrnoException) => reject(Object.assign(new Error(`proxy ${proxyName(proxy)} could not be reached (${error.code ?? error.message})`), { code: error.code })));
    request.end();
  });
}

function proxyUrl(env: NodeJS.ProcessEnv, variable: string): URL | undefined {
  const value = env[variable] || env[variable.toLowerCase()];
  if (!value) return undefined;
  // As Go reads it: a proxy given without a scheme is an http one.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  const url = URL.canParse(withScheme) ? new URL(withScheme) : undefined;
  if (!url || url.protocol !== 'http:') {
    throw new ProxySettingError(`${variable} is not an http:// proxy address (it starts "${value.split(':')[0]}"): set it like http://proxy.example.org:3128; an https:// proxy is not supported`);
  }
  return url;
}

/** The loopback hosts every stage treats as this machine, and names under localhost (RFC 6761), which resolve there too. */
function isThisMachine(target: URL): boolean {
  return isLoopbackRegistry(target.host) || target.hostname.endsWith('.localhost');
}

/**
 * NO_PROXY: `*`, or names separated by commas: a host name matches itself and its subdomains (with
 * or without a leading dot), an IP address itself, and either may carry a port.
 */
function listedInNoProxy(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  return noProxy
    .split(/[,\s]+/)
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean)
    .some((entry) => {
      if (entry === '*') return true;
      // An IPv6 address is written bare (::1) or in brackets, the port after them ([::1]:5000).
      const [, name = entry, entryPort] = (entry.split(':').length > 2 && !entry.startsWith('[') ? undefined : /^\[?(.*?)\]?(?::(\d+))?$/.exec(entry)) ?? [];
      if (entryPort && entryPort !== port) return false;
      const domain = name.replace(/^\*?\./, '');
      return host === domain || host.endsWith(`.${domain}`);
    });
}
