import type { Readable } from 'node:stream';
import type { HttpConnections } from './http-connections';
import type { HttpResponse } from './http-response';
import { isLoopbackRegistry } from './loopback-host';
import { RegistryAuthError, RegistryResponseError, RegistryUnreachableError, UploadRefusedError } from './oci-errors';
import type { RegistryAuthenticator } from './registry-authenticator';
import { RateLimitPacer } from './rate-limit-pacer';
import { isRetryableStatus, isUntrustedCertificate, retryDelayMs, sleep, type RetryPolicy } from './retry-policy';
import { oneLine, pageTitle } from './server-text';
import { parseAuthChallenge } from './www-authenticate';

export interface RegistryRequest {
  registry: string;
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** A path under the registry's base URL, or an absolute URL (upload locations). */
  path: string;
  /** Token scopes this request needs, e.g. repository:a/b:pull. */
  scopes: string[];
  headers?: Record<string, string>;
  /** Buffers are resent on retry; a stream can be sent once only, so its failures surface at once. */
  body?: Buffer | Readable;
  /**
   * False for requests whose blind resend could do harm, e.g. a PATCH that appends to an upload
   * the registry may have taken part of: their failures surface at once for the caller to recover.
   */
  idempotent?: boolean;
}

export interface RegistryRequestEvent {
  registry: string;
  method: string;
  url: string;
  status?: number;
}

export interface RegistryTransportOptions {
  authenticator: RegistryAuthenticator;
  insecureRegistries: string[];
  userAgent: string;
  retry: RetryPolicy;
  connections: HttpConnections;
  onRequest?: (event: RegistryRequestEvent) => void;
}

/** Docker Hub's API lives on another host than its image names say. */
export function apiHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

/**
 * Sends registry API requests: picks http or https, authenticates on a 401 challenge, paces
 * requests when Docker Hub's quota runs low, and retries 429, 5xx and dropped connections with
 * backoff when the body can be sent again.
 */
export class RegistryTransport {
  private readonly pacer = new RateLimitPacer();

  constructor(private readonly options: RegistryTransportOptions) {}

  baseUrl(registry: string): string {
    const plain = isLoopbackRegistry(registry) || this.options.insecureRegistries.includes(registry);
    return `${plain ? 'http' : 'https'}://${apiHost(registry)}`;
  }

  async send(req: RegistryRequest): Promise<HttpResponse> {
    const url = new URL(req.path, this.baseUrl(req.registry));
    const replayable = req.body === undefined || Buffer.isBuffer(req.body);
    const retryable = replayable && req.idempotent !== false;
    let attempt = 1;
    let authenticated = false;
    for (;;) {
      await this.pacer.wait(req.registry);
      const response = await this.attempt(req, url, attempt, retryable);
      if (response === 'retry') {
        attempt++;
        continue;
      }
      this.pacer.observe(req.registry, response.header('ratelimit-remaining'));
      if (response.statusCode === 401) {
        // One more try, with the credentials or token the challenge asks for; not counted as a retry.
        await this.learnChallengeOrRefuse(req, response, authenticated, replayable);
        authenticated = true;
        continue;
      }
      if (response.statusCode === 403) {
        const detail = await errorDetail(response);
        // A refused write is named as such, with the registry's reason (a quota, "requested access to
        // the resource is denied") or, bare, Gitea's and Forgejo's usual one: a package quota or size limit.
        if (isWrite(req)) throw new UploadRefusedError(req.registry, describeRequest(req), 403, detail || packageLimitReason);
        throw new RegistryAuthError(req.registry, `access denied${detail ? ` (${detail})` : ''}`);
      }
      if (response.statusCode === 413) throw new UploadRefusedError(req.registry, describeRequest(req), 413, await tooLargeReason(req, response));
      if (!isRetryableStatus(response.statusCode) || !retryable || attempt >= this.options.retry.attempts) return response;
      await response.discard();
      await sleep(retryDelayMs(this.options.retry, attempt, response.header('retry-after')));
      attempt++;
    }
  }

  /** Reads a failed response into a typed error naming the operation and the registry's reason. */
  async failure(req: Pick<RegistryRequest, 'registry'>, operation: string, response: HttpResponse): Promise<RegistryResponseError> {
    return new RegistryResponseError(req.registry, operation, response.statusCode, await errorDetail(response));
  }

  private async learnChallengeOrRefuse(req: RegistryRequest, response: HttpResponse, triedWithAuth: boolean, canResend: boolean): Promise<void> {
    await response.discard();
    const challenge = parseAuthChallenge(response.header('www-authenticate'));
    // Gitea and Forgejo grant a token to any user, then answer a request its user (or the token's
    // scopes) may not make with a Basic challenge ("Gitea Package API"). No registry goes back
    // from tokens to passwords, so that is a refusal of access, not a scheme to switch to.
    const tokenRefused = challenge?.scheme === 'basic' && this.options.authenticator.usesTokens(req.registry);
    if (triedWithAuth || tokenRefused || !challenge || !canResend) {
      // After an authenticated try the credentials were accepted and the refusal is about access.
      const refusal = await this.options.authenticator.describeRefusal(req.registry, triedWithAuth || tokenRefused ? req.scopes : []);
      throw new RegistryAuthError(req.registry, tokenRefused ? `${refusal}; ${giteaPackageAccess(req.scopes)}` : refusal);
    }
    if (challenge.scheme === 'bearer') this.refuseUnsafeRealm(req.registry, challenge.realm);
    this.options.authenticator.learnChallenge(req.registry, challenge, req.scopes);
  }

  /**
   * The token service a Bearer challenge names is sent the registry password (Basic auth on its
   * GET). Any host may serve it, as auth.docker.io does Docker Hub's, but the password crosses the
   * network in clear only where plain http is allowed for a registry: on this machine, or to a host
   * listed in insecureRegistries. A plain-http realm elsewhere (a misconfigured registry, or a 401
   * forged on a plain connection) is refused before anything is sent to it.
   */
  private refuseUnsafeRealm(registry: string, realm: string): void {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      // Not repeated: the text is the server's, and could carry anything.
      throw new RegistryAuthError(registry, 'its 401 names a token service (Bearer realm) that is not an absolute URL; check the registry\'s token auth configuration');
    }
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && (isLoopbackRegistry(url.host) || this.options.insecureRegistries.includes(url.host))) return;
    throw new RegistryAuthError(
      registry,
      `its 401 names the token service ${url.protocol}//${url.host}, which is not https, nor on this machine, nor listed in insecureRegistries, so the password would cross the network in clear; nothing was sent to it. Serve the token service over https, or list ${url.host} in insecureRegistries if plain http to it is meant`,
    );
  }

  private async attempt(req: RegistryRequest, url: URL, attempt: number, retryable: boolean): Promise<HttpResponse | 'retry'> {
    const headers: Record<string, string> = { 'user-agent': this.options.userAgent, ...req.headers };
    // Credentials go to the registry only, never to a storage host an upload location points at.
    if (url.origin === this.baseUrl(req.registry)) {
      const authorization = await this.options.authenticator.authorization(req.registry, req.scopes);
      if (authorization) headers['authorization'] = authorization;
    }
    try {
      const response = await this.options.connections.send(url, { method: req.method, headers, body: req.body });
      this.options.onRequest?.({ registry: req.registry, method: req.method, url: url.toString(), status: response.statusCode });
      return response;
    } catch (error) {
      this.options.onRequest?.({ registry: req.registry, method: req.method, url: url.toString() });
      if (!retryable || attempt >= this.options.retry.attempts || isUntrustedCertificate(error)) {
        throw new RegistryUnreachableError(req.registry, describeNetworkError(error));
      }
      await sleep(retryDelayMs(this.options.retry, attempt));
      return 'retry';
    }
  }
}

const packageLimitReason =
  'no reason given, which is how Gitea and Forgejo refuse a write over the owner\'s package quota or size limit ' +
  '([packages] LIMIT_TOTAL_OWNER_SIZE, LIMIT_SIZE_CONTAINER, …); free space in the registry or have its admin raise the limit';

function isWrite(req: RegistryRequest): boolean {
  return req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH';
}

/** "PUT /v2/team/app/blobs/uploads/…", without the query, which may carry upload state. */
function describeRequest(req: RegistryRequest): string {
  return `${req.method} ${new URL(req.path, 'http://registry').pathname}`;
}

async function tooLargeReason(req: RegistryRequest, response: HttpResponse): Promise<string> {
  const { detail, page } = await errorAnswer(response);
  const size = req.headers?.['content-length'] ? `a body of ${req.headers['content-length']} bytes` : 'the body';
  // A proxy's own page (nginx, Cloudflare) is HTML; only a registry's reason is worth repeating.
  const why = detail && !page ? ` (${detail})` : '';
  return (
    `${size} is over a limit${why}: a proxy in front of the registry (nginx's client_max_body_size, 1 MB unless raised; Cloudflare's 100 MB) ` +
    'or a package quota (Forgejo answers 413 for one); raise the proxy\'s limit for /v2/, or send blobs in chunks under it (mirror-images --chunk-size)'
  );
}

/** What Gitea and Forgejo ask of a user and a token for these scopes. */
function giteaPackageAccess(scopes: string[]): string {
  const access = scopes.some((scope) => /:[^:]*push[^:]*$/.test(scope)) ? 'write' : 'read';
  return `on Gitea and Forgejo the user needs ${access} access to the owner's packages, and a token the ${access}:package scope`;
}

const maxErrorBodyBytes = 64 * 1024;

/** The reason a registry gives in its error body, e.g. "BLOB_UPLOAD_INVALID: blob upload invalid". */
export async function errorDetail(response: HttpResponse): Promise<string> {
  return (await errorAnswer(response)).detail;
}

/** The reason in one line, and whether the answer was a web page (a proxy's, not the registry's). */
async function errorAnswer(response: HttpResponse): Promise<{ detail: string; page: boolean }> {
  // An error answer is read for its reason only: one that does not end (or a proxy's huge page) is not kept whole.
  const text = await response.text(maxErrorBodyBytes).catch(() => '');
  try {
    const parsed = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    return { detail: oneLine((parsed.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ')), page: false };
  } catch {
    // A proxy's error page (nginx's 502, a sign-in page) is named by its title, not its markup.
    const title = pageTitle(text);
    return { detail: (title ?? oneLine(text)).slice(0, 200), page: title !== undefined || text.trimStart().startsWith('<') };
  }
}

function describeNetworkError(error: unknown): string {
  const err = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return [err.code ?? err.cause?.code, err.cause?.message ?? err.message].filter(Boolean).join(' ');
}
