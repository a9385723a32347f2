import type { HttpConnections } from './http-connections';
import type { HttpResponse } from './http-response';
import { IdentityTokenRejectedError, RegistryAuthError, RegistryUnreachableError } from './oci-errors';
import type { CredentialResolver, RegistryCredentials } from './registry-credentials';
import { isRetryableStatus, retryDelayMs, sleep, type RetryPolicy } from './retry-policy';
import {
  basicAuthorization,
  identityTokenRequest,
  isRejectedGrant,
  oauthErrorCode,
  passwordTokenRequest,
  readTokenAnswer,
  type BearerChallenge,
  type TokenAnswer,
  type TokenServiceRequest,
} from './token-service-requests';
import type { AuthChallenge } from './www-authenticate';

/**
 * Remembers how each registry wants to be authenticated (learned from its first 401) and
 * produces Authorization headers: Basic, or Bearer tokens fetched from the realm per scope set
 * (with the password, or by exchanging docker's identity token) and cached until they expire.
 */
export class RegistryAuthenticator {
  private readonly challenges = new Map<string, AuthChallenge>();
  private readonly tokens = new Map<string, Promise<TokenAnswer>>();
  private readonly credentialCache = new Map<string, Promise<RegistryCredentials | undefined>>();

  constructor(
    private readonly resolveCredentials: CredentialResolver,
    private readonly connections: HttpConnections,
    private readonly userAgent: string,
    private readonly retry: RetryPolicy,
  ) {}

  async authorization(registry: string, scopes: string[]): Promise<string | undefined> {
    const challenge = this.challenges.get(registry);
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      const credentials = await this.credentials(registry);
      // An identity token is no password: it is never sent as Basic auth.
      if (!credentials || credentials.identityToken !== undefined) return undefined;
      return basicAuthorization(credentials);
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
  private freshToken(key: string, registry: string, challenge: BearerChallenge, scopes: string[]): Promise<TokenAnswer> {
    const pending = this.tokens.get(key) ?? this.fetchToken(registry, challenge, scopes);
    if (!this.tokens.has(key)) {
      this.tokens.set(key, pending);
      pending.catch(() => this.tokens.get(key) === pending && this.tokens.delete(key));
    }
    return pending;
  }

  /** Whether requests to the registry carry tokens from its token service (its challenge was Bearer). */
  usesTokens(registry: string): boolean {
    return this.challenges.get(registry)?.scheme === 'bearer';
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
      if (!credentials) return `${access} needs credentials, or the repository does not exist; run ${login}`;
      const who = credentials.identityToken !== undefined ? 'the identity token from `docker login`' : `user "${credentials.username}"`;
      return `${who} may not ${access}, or the repository does not exist`;
    }
    if (!credentials) return `no credentials for ${registry}; run ${login}`;
    if (credentials.identityToken !== undefined) {
      return `${registry} wants a password, but the docker config holds an identity token for it; run ${login}`;
    }
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

  private async fetchToken(registry: string, challenge: BearerChallenge, scopes: string[]): Promise<TokenAnswer> {
    const credentials = await this.credentials(registry);
    if (credentials?.identityToken !== undefined) return this.exchangeIdentityToken(registry, challenge, scopes, credentials.identityToken);
    const request = passwordTokenRequest(challenge, scopes, credentials, this.userAgent);
    const response = await this.askTokenService(registry, request);
    if (response.statusCode === 401 || response.statusCode === 403) {
      await response.discard();
      throw new RegistryAuthError(registry, await this.describeRefusal(registry));
    }
    if (response.statusCode !== 200) {
      await response.discard();
      throw new RegistryAuthError(registry, `token service ${request.url.origin} answered HTTP ${response.statusCode}`);
    }
    return this.readGrantedToken(registry, request, response);
  }

  private async exchangeIdentityToken(registry: string, challenge: BearerChallenge, scopes: string[], identityToken: string): Promise<TokenAnswer> {
    const request = identityTokenRequest(challenge, scopes, identityToken, this.userAgent);
    const response = await this.askTokenService(registry, request);
    if (response.statusCode !== 200) {
      const oauthError = oauthErrorCode(await response.text(maxTokenAnswerBytes).catch(() => ''));
      if (isRejectedGrant(response.statusCode, oauthError)) throw new IdentityTokenRejectedError(registry);
      throw new RegistryAuthError(registry, `token service ${request.url.origin} answered HTTP ${response.statusCode}${oauthError ? ` (${oauthError})` : ''} to the identity token exchange`);
    }
    const answer = await this.readGrantedToken(registry, request, response);
    if (answer.refreshToken) this.credentialCache.set(registry, Promise.resolve({ identityToken: answer.refreshToken }));
    return answer;
  }

  /**
   * Retried as registry requests are: a token service throttles (Docker Hub's answers 429 with
   * Retry-After) and has bad moments like any server, and its refusal would fail the image for good.
   */
  private async askTokenService(registry: string, request: TokenServiceRequest): Promise<HttpResponse> {
    for (let attempt = 1; ; attempt++) {
      let response: HttpResponse;
      try {
        response = await this.connections.send(request.url, request.options);
      } catch (error) {
        if (attempt >= this.retry.attempts) throw new RegistryUnreachableError(registry, `token service ${request.url.origin}: ${(error as Error).message}`);
        await sleep(retryDelayMs(this.retry, attempt));
        continue;
      }
      if (!isRetryableStatus(response.statusCode) || attempt >= this.retry.attempts) return response;
      await response.discard();
      await sleep(retryDelayMs(this.retry, attempt, response.header('retry-after')));
    }
  }

  private async readGrantedToken(registry: string, request: TokenServiceRequest, response: HttpResponse): Promise<TokenAnswer> {
    // A token is a few KiB: a longer answer is no token, however long it goes on.
    const answer = readTokenAnswer(await response.text(maxTokenAnswerBytes).catch(() => ''));
    if (!answer) throw new RegistryAuthError(registry, `token service ${request.url.origin} answered without a token`);
    return answer;
  }
}

const maxTokenAnswerBytes = 1024 * 1024;

function tokenKey(registry: string, scopes: string[]): string {
  return `${registry} ${[...scopes].sort().join(' ')}`;
}

/** repository:team/app:pull,push -> "push to team/app" */
function describeScope(scope: string): string {
  const [, name, actions = ''] = scope.split(':');
  return actions.includes('push') ? `push to ${name}` : `pull ${name}`;
}
