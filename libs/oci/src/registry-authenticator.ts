import type { HttpConnections } from './http-connections';
import type { HttpResponse } from './http-response';
import { RegistryAuthError, RegistryUnreachableError } from './oci-errors';
import type { CredentialResolver, RegistryCredentials } from './registry-credentials';
import type { AuthChallenge } from './www-authenticate';

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Tokens are refreshed this long before they expire, so a slow upload does not outlive one. */
const expiryMarginMs = 10_000;

/**
 * Remembers how each registry wants to be authenticated (learned from its first 401) and
 * produces Authorization headers: Basic, or Bearer tokens fetched from the realm per scope set
 * and cached until they expire.
 */
export class RegistryAuthenticator {
  private readonly challenges = new Map<string, AuthChallenge>();
  private readonly tokens = new Map<string, Promise<CachedToken>>();
  private readonly credentialCache = new Map<string, Promise<RegistryCredentials | undefined>>();

  constructor(
    private readonly resolveCredentials: CredentialResolver,
    private readonly connections: HttpConnections,
    private readonly userAgent: string,
  ) {}

  async authorization(registry: string, scopes: string[]): Promise<string | undefined> {
    const challenge = this.challenges.get(registry);
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      const credentials = await this.credentials(registry);
      if (!credentials) return undefined;
      return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    const key = tokenKey(registry, scopes);
    const cached = this.tokens.get(key);
    if (cached) {
      const token = await cached;
      if (token.expiresAt > Date.now()) return `Bearer ${token.token}`;
      if (this.tokens.get(key) === cached) this.tokens.delete(key);
    }
    return `Bearer ${(await this.freshToken(key, registry, challenge, scopes)).token}`;
  }

  /** Parallel requests needing the same scopes share one token request. */
  private freshToken(key: string, registry: string, challenge: AuthChallenge & { scheme: 'bearer' }, scopes: string[]): Promise<CachedToken> {
    const pending = this.tokens.get(key) ?? this.fetchToken(registry, challenge, scopes);
    if (!this.tokens.has(key)) {
      this.tokens.set(key, pending);
      pending.catch(() => this.tokens.get(key) === pending && this.tokens.delete(key));
    }
    return pending;
  }

  /** Records a 401's challenge; a 401 despite a cached token means it was revoked or expired early. */
  learnChallenge(registry: string, challenge: AuthChallenge, scopes: string[]): void {
    this.challenges.set(registry, challenge);
    this.tokens.delete(tokenKey(registry, scopes));
  }

  /**
   * Why the registry said no. With `scopes` the token (if any) was granted, so the password is
   * fine and the refusal is about access to those repositories.
   */
  async describeRefusal(registry: string, scopes: string[] = []): Promise<string> {
    const credentials = await this.credentials(registry);
    const login = `\`docker login ${registry}\` or set GITEA_REGISTRY_USER and GITEA_REGISTRY_PASSWORD`;
    const tokenGranted = scopes.length > 0 && this.challenges.get(registry)?.scheme === 'bearer';
    if (tokenGranted) {
      const access = scopes.map(describeScope).join(' and ');
      return credentials
        ? `user "${credentials.username}" may not ${access}, or the repository does not exist`
        : `${access} needs credentials, or the repository does not exist; run ${login}`;
    }
    if (!credentials) return `no credentials for ${registry}; run ${login}`;
    return `the password for user "${credentials.username}" was not accepted; check \`docker login ${registry}\` or GITEA_REGISTRY_PASSWORD`;
  }


  private credentials(registry: string): Promise<RegistryCredentials | undefined> {
    let pending = this.credentialCache.get(registry);
    if (!pending) {
      pending = this.resolveCredentials(registry);
      this.credentialCache.set(registry, pending);
    }
    return pending;
  }

  private async fetchToken(registry: string, challenge: AuthChallenge & { scheme: 'bearer' }, scopes: string[]): Promise<CachedToken> {
    const url = new URL(challenge.realm);
    if (challenge.service) url.searchParams.set('service', challenge.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const credentials = await this.credentials(registry);
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    if (credentials) {
      headers['authorization'] = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    let response: HttpResponse;
    try {
      response = await this.connections.send(url, { method: 'GET', headers });
    } catch (error) {
      throw new RegistryUnreachableError(registry, `token service ${url.origin}: ${(error as Error).message}`);
    }
    if (response.statusCode === 401 || response.statusCode === 403) {
      await response.discard();
      throw new RegistryAuthError(registry, await this.describeRefusal(registry));
    }
    if (response.statusCode !== 200) {
      await response.discard();
      throw new RegistryAuthError(registry, `token service ${url.origin} answered HTTP ${response.statusCode}`);
    }
    const body = JSON.parse(await response.text()) as { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryAuthError(registry, `token service ${url.origin} answered without a token`);
    // The spec's default lifetime is 60 seconds when expires_in is absent.
    const lifetimeMs = (body.expires_in ?? 60) * 1000;
    const issuedAt = body.issued_at ? Date.parse(body.issued_at) : Date.now();
    return { token, expiresAt: (Number.isNaN(issuedAt) ? Date.now() : issuedAt) + lifetimeMs - expiryMarginMs };
  }
}

function tokenKey(registry: string, scopes: string[]): string {
  return `${registry} ${[...scopes].sort().join(' ')}`;
}

/** repository:team/app:pull,push -> "push to team/app" */
function describeScope(scope: string): string {
  const [, name, actions = ''] = scope.split(':');
  return actions.includes('push') ? `push to ${name}` : `pull ${name}`;
}
