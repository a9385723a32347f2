import { createSign, randomUUID, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { RegistryCredentials } from './registry-server';

export interface TokenRequest {
  service?: string;
  scopes: string[];
  /** The user that authenticated, or undefined for an anonymous token request. */
  user?: string;
  /** GET is the token spec's flow; POST its OAuth2 one (identity tokens). */
  method?: string;
  /** The request target as received, to check that no secret travelled in it. */
  target?: string;
  /** The OAuth2 form's grant_type and client_id, for POSTs. */
  grantType?: string;
  clientId?: string;
  /** Whether an Authorization header came along. */
  authorization?: boolean;
}

export interface TokenServer {
  /** The `auth:` block for startRegistry({ authConfig }), trusting this server's certificate. */
  registryAuthConfig: string;
  realm: string;
  service: string;
  /** Every token request, in order, to check the scopes a client asked for. */
  requests: TokenRequest[];
  stop(): Promise<void>;
}

export interface StartTokenServerOptions {
  credentials: RegistryCredentials;
  /** Seconds a token lives; short lifetimes exercise refreshing. */
  expiresIn?: number;
  /**
   * An OAuth2 refresh token (docker's "identity token") this server accepts for
   * credentials.username on a POST with grant_type=refresh_token; others get 400 invalid_grant.
   */
  identityToken?: string;
  /** Answer every refresh with a new refresh token and accept only the newest from then on. */
  rotateIdentityToken?: boolean;
}

/**
 * The Bearer token flow as Docker Hub, GHCR and Gitea run it, on loopback: a token endpoint
 * that checks Basic credentials (GET) or an OAuth2 refresh token (POST, when identityToken is
 * set) and signs JWTs the real registry verifies against a certificate made here. Anonymous
 * callers get pull access only.
 */
export async function startTokenServer(options: StartTokenServerOptions): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'cm-token-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=test-token-issuer']);
  const key = await readFile(keyPath, 'utf8');
  const certificate = new X509Certificate(await readFile(certPath));
  const service = 'test-registry';
  const issuer = 'test-token-issuer';
  const requests: TokenRequest[] = [];
  let acceptedIdentityToken = options.identityToken;
  const grantToken = (res: ServerResponse, scopes: string[], user: string | undefined, extra: object = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = options.expiresIn ?? 300;
    const claims = { iss: issuer, sub: user ?? '', aud: service, exp: now + expiresIn, nbf: now - 5, iat: now, jti: randomUUID(), access: scopes.map((scope) => grant(scope, user)) };
    const token = signJwt(claims, key, certificate);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: expiresIn, issued_at: new Date(now * 1000).toISOString(), ...extra }));
  };
  /** OAuth2 (the spec's oauth.md): a form POST exchanging a refresh token for an access token. */
  const answerOAuth2Post = async (req: IncomingMessage, res: ServerResponse) => {
    const form = await readForm(req);
    const grantType = form.get('grant_type') ?? undefined;
    const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    const isForm = req.headers['content-type'] === 'application/x-www-form-urlencoded';
    const accepted = isForm && grantType === 'refresh_token' && acceptedIdentityToken !== undefined && form.get('refresh_token') === acceptedIdentityToken;
    const user = accepted ? options.credentials.username : undefined;
    requests.push({ service: form.get('service') ?? undefined, scopes, user, method: 'POST', target: req.url, grantType, clientId: form.get('client_id') ?? undefined, authorization: req.headers.authorization !== undefined });
    if (!accepted) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: !isForm ? 'invalid_request' : grantType === 'refresh_token' ? 'invalid_grant' : 'unsupported_grant_type' }));
      return;
    }
    if (options.rotateIdentityToken) acceptedIdentityToken = randomUUID();
    grantToken(res, scopes, user, options.rotateIdentityToken ? { refresh_token: acceptedIdentityToken } : {});
  };
  /** The token spec's GET: Basic credentials, or none for anonymous pull access. */
  const answerTokenGet = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    const scopes = url.searchParams.getAll('scope');
    const user = authenticatedUser(req.headers.authorization, options.credentials);
    requests.push({ service: url.searchParams.get('service') ?? undefined, scopes, user: user || undefined, method: 'GET', target: req.url, authorization: req.headers.authorization !== undefined });
    if (user === false) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ details: 'wrong username or password' }));
      return;
    }
    grantToken(res, scopes, user);
  };
  const server = createServer((req, res) => {
    if (req.method === 'POST') void answerOAuth2Post(req, res);
    else answerTokenGet(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const realm = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/token`;
  return {
    realm,
    service,
    requests,
    registryAuthConfig: ['auth:', '  token:', `    realm: ${realm}`, `    service: ${service}`, `    issuer: ${issuer}`, `    rootcertbundle: ${certPath}`].join('\n'),
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** undefined: anonymous; false: wrong credentials. */
function authenticatedUser(header: string | undefined, credentials: RegistryCredentials): string | undefined | false {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  return decoded === `${credentials.username}:${credentials.password}` ? credentials.username : false;
}

function grant(scope: string, user: string | undefined): { type: string; name: string; actions: string[] } {
  const [type, ...rest] = scope.split(':');
  const actions = (rest.pop() ?? '').split(',').filter(Boolean);
  return { type, name: rest.join(':'), actions: user ? actions : actions.filter((action) => action === 'pull') };
}

function signJwt(claims: object, key: string, certificate: X509Certificate): string {
  // x5c lets the registry check the signing key against its rootcertbundle.
  const header = { alg: 'RS256', typ: 'JWT', x5c: [certificate.raw.toString('base64')] };
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(claims)}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(key).toString('base64url');
  return `${unsigned}.${signature}`;
}
