import { untrustedCertificateRemedy } from '@changemaker/oci';

/**
 * One class per way a Gitea call fails, each with a message that says what to do, so the
 * executor can print `error.message` as it is. Messages are built from the method, the path and
 * Gitea's own message: never from headers, so the token cannot leak into them.
 */
export class GiteaError extends Error {
  override readonly name: string = 'GiteaError';
}

/** GITEA_URL or GITEA_REPO cannot be what it claims to be. */
export class InvalidSettingError extends GiteaError {
  override readonly name = 'InvalidSettingError';
}

/** 401 "user does not exist": a token this Gitea does not know, usually the local instance's. */
export class UnknownTokenError extends GiteaError {
  override readonly name = 'UnknownTokenError';
  constructor(giteaUrl: string) {
    super(
      `${giteaUrl} answered 401 "user does not exist": the token is unknown to this Gitea. ` +
        'Use GITEA_REGISTRY_API_TOKEN (a token of the remote registry Gitea), not GITEA_API_TOKEN (the local instance\'s).',
    );
  }
}

/** 401 without a token: the call needs one. */
export class TokenRequiredError extends GiteaError {
  override readonly name = 'TokenRequiredError';
  constructor(giteaUrl: string) {
    super(`${giteaUrl} needs a token for this: set GITEA_REGISTRY_API_TOKEN to a token with the write:repository scope.`);
  }
}

export class PermissionDeniedError extends GiteaError {
  override readonly name = 'PermissionDeniedError';
  constructor(repo: string, giteaMessage: string) {
    super(
      `403 from Gitea on ${repo}: the token lacks the write:repository scope or write access to the repository ` +
        `(${giteaMessage}). Create a token with write:repository for a user who can write to ${repo}.`,
    );
  }
}

export class RepositoryNotFoundError extends GiteaError {
  override readonly name = 'RepositoryNotFoundError';
  constructor(giteaUrl: string, repo: string) {
    super(
      `Repository ${repo} not found on ${giteaUrl} (404): check GITEA_URL and GITEA_REPO (owner/name), ` +
        "that the token can see the repository, and that its Releases are turned on (the repository's Settings; Gitea answers 404 when they are off).",
    );
  }
}

export class AttachmentTooLargeError extends GiteaError {
  override readonly name = 'AttachmentTooLargeError';
  constructor(assetName: string, size: number) {
    super(
      `Gitea refused ${assetName} (${size} bytes) with 413: it exceeds the attachment limit. Raise ` +
        '[repository.release] FILE_MAX_SIZE (or [attachment] MAX_SIZE on older Gitea) in app.ini, ' +
        'and the reverse proxy\'s body limit (nginx client_max_body_size), then re-run.',
    );
  }
}

/**
 * The file's type is not in the instance's allow-list: 400 on upload; 422 on a rename, which Gitea
 * checks by the new name alone (no content, so its type is text/plain).
 */
export class AttachmentTypeRefusedError extends GiteaError {
  override readonly name = 'AttachmentTypeRefusedError';
  constructor(assetName: string, giteaMessage: string, status = 400) {
    super(
      `Gitea refused ${assetName} (${status}: ${giteaMessage}). Add its extension or the type Gitea named (or */*) to ` +
        '[repository.release] ALLOWED_TYPES in app.ini; SHA256SUMS has no extension and is text, so an allow-list needs text/plain.',
    );
  }
}

/** 409 on create: another publisher made a release for this tag between our look-up and our POST. */
export class ReleaseConflictError extends GiteaError {
  override readonly name = 'ReleaseConflictError';
  constructor(tag: string, releaseUrl?: string) {
    super(
      `Someone else created the release for ${tag} meanwhile (409 conflict${releaseUrl ? `: ${releaseUrl}` : ''}). ` +
        'Nothing was uploaded. Check that release; if it is the draft of an earlier run of yours that stopped, re-run with --replace.',
    );
  }
}

/**
 * A success whose body is not Gitea's JSON: something else answers at GITEA_URL, such as an
 * authenticating proxy's sign-in page or a web site, whatever the status says.
 */
export class NotGiteaAnswerError extends GiteaError {
  override readonly name = 'NotGiteaAnswerError';
  constructor(request: string, status: number, what: string) {
    super(
      `${request} answered ${status} with ${what}, not Gitea's JSON: GITEA_URL does not reach Gitea's API. ` +
        'Set it to the Gitea web root (the address its /api/v1 is under), past any sign-in proxy, then re-run.',
    );
  }
}

/** An API call was redirected: the repository was renamed or moved, or GITEA_URL answers from elsewhere. */
export class GiteaRedirectError extends GiteaError {
  override readonly name = 'GiteaRedirectError';
}

/**
 * An API call answered with an HTML page: a reverse proxy in front of Gitea answered, not Gitea
 * (its API answers JSON). A 5xx is Gitea not answering the proxy; anything else is a proxy rule.
 */
export class ProxyAnswerError extends GiteaError {
  override readonly name = 'ProxyAnswerError';
  constructor(
    readonly status: number,
    method: string,
    path: string,
    pageTitle: string,
  ) {
    super(
      `${method} ${path} failed with ${status}: "${pageTitle}", an HTML page from a proxy in front of Gitea, not Gitea's API: ${proxyAdvice(status)}`,
    );
  }
}

function proxyAdvice(status: number): string {
  if (status >= 500) return 'check that Gitea is running behind it, then re-run.';
  if (status === 429) return "it limits the request rate (nginx limit_req): raise its limit for /api/v1/ or re-run later.";
  return "check the proxy's rules for /api/v1/ and that GITEA_URL is Gitea's web root, then re-run.";
}

/** Any other answer Gitea gives that the caller did not expect. */
export class GiteaRequestError extends GiteaError {
  override readonly name = 'GiteaRequestError';
  constructor(
    readonly status: number,
    method: string,
    path: string,
    readonly giteaMessage: string,
  ) {
    super(`${method} ${path} failed with ${status}${giteaMessage ? `: ${giteaMessage}` : ''}`);
  }
}

/** Gitea's TLS certificate is not trusted here: no retry mends that, so none was made. */
export class GiteaCertificateError extends GiteaError {
  override readonly name = 'GiteaCertificateError';
  constructor(method: string, path: string, host: string, cause: string) {
    super(`${method} ${path}: the TLS certificate of ${host} is not trusted (${cause}); ${untrustedCertificateRemedy}, then re-run.`);
  }
}

/** The network failed and every retry failed too. */
export class GiteaUnreachableError extends GiteaError {
  override readonly name = 'GiteaUnreachableError';
  constructor(method: string, path: string, attempts: number, cause: string) {
    super(`${method} ${path} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${cause}. Check GITEA_URL and the network, then re-run.`);
  }
}
