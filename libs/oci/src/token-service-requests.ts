import type { HttpRequestOptions } from './http-connections';
import type { PasswordCredentials } from './registry-credentials';
import type { AuthChallenge } from './www-authenticate';

export type BearerChallenge = AuthChallenge & { scheme: 'bearer' };

export interface TokenServiceRequest {
  url: URL;
  options: HttpRequestOptions;
}

export interface TokenAnswer {
  token: string;
  expiresAt: number;
  /** A token service may rotate the identity token; the next exchange must use the new one. */
  refreshToken?: string;
}

/**
 * Identity tokens are refresh tokens `docker login` obtained as client "docker", and OAuth2
 * binds a refresh token to the client it was issued to (RFC 6749, section 6).
 */
const dockerClientId = 'docker';

/** Tokens are refreshed this long before they expire, so a slow upload does not outlive one. */
const expiryMarginMs = 10_000;

export function basicAuthorization(credentials: PasswordCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** The token spec's GET: service and scopes in the query, the password (if any) as Basic auth. */
export function passwordTokenRequest(challenge: BearerChallenge, scopes: string[], credentials: PasswordCredentials | undefined, userAgent: string): TokenServiceRequest {
  const url = new URL(challenge.realm);
  if (challenge.service) url.searchParams.set('service', challenge.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  const headers: Record<string, string> = { 'user-agent': userAgent };
  if (credentials) headers['authorization'] = basicAuthorization(credentials);
  return { url, options: { method: 'GET', headers } };
}

/**
 * The OAuth2 refresh of the token spec (oauth.md), as docker sends it for an identity token: a
 * form POST, so the token travels in the body only, never in a URL a log or proxy could keep.
 */
export function identityTokenRequest(challenge: BearerChallenge, scopes: string[], identityToken: string, userAgent: string): TokenServiceRequest {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: identityToken, client_id: dockerClientId });
  if (challenge.service) form.set('service', challenge.service);
  // OAuth2 takes one space-separated scope parameter, where the GET repeats it.
  if (scopes.length > 0) form.set('scope', scopes.join(' '));
  const headers = { 'user-agent': userAgent, 'content-type': 'application/x-www-form-urlencoded' };
  return { url: new URL(challenge.realm), options: { method: 'POST', headers, body: Buffer.from(form.toString()) } };
}

interface TokenAnswerBody {
  token?: string;
  access_token?: string;
  expires_in?: number;
  issued_at?: string;
  refresh_token?: string;
}

/** Both flows answer JSON; the GET names the token `token`, OAuth2 `access_token`. */
export function readTokenAnswer(text: string): TokenAnswer | undefined {
  const body = parseJsonObject(text) as TokenAnswerBody | undefined;
  const token = body?.token ?? body?.access_token;
  if (!body || !token) return undefined;
  // The spec's default lifetime is 60 seconds when expires_in is absent.
  const lifetimeMs = (body.expires_in ?? 60) * 1000;
  const issuedAt = body.issued_at ? Date.parse(body.issued_at) : Date.now();
  const expiresAt = (Number.isNaN(issuedAt) ? Date.now() : issuedAt) + lifetimeMs - expiryMarginMs;
  return { token, expiresAt, refreshToken: body.refresh_token || undefined };
}

/**
 * Whether a token service turned the identity token down: 400 invalid_grant is OAuth2's answer
 * (RFC 6749, section 5.2); some token services answer 401 or 403 instead.
 */
export function isRejectedGrant(status: number, oauthError: string | undefined): boolean {
  return status === 401 || status === 403 || (status === 400 && oauthError === 'invalid_grant');
}

/** The OAuth2 error code of a refusal, only if it is one: the body is the server's text, not ours to echo. */
export function oauthErrorCode(text: string): string | undefined {
  const code = (parseJsonObject(text) as { error?: unknown } | undefined)?.error;
  return typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? code : undefined;
}

/** undefined for anything but a JSON object: a proxy's HTML page is no answer either. */
function parseJsonObject(text: string): object | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}
