import { withoutCredentials } from './reference-credentials';
import { untrustedCertificateRemedy } from './retry-policy';

/**
 * Every failure libs/oci can explain to a user has its own class, so callers (the mirror
 * executor, docker-build-push) can catch the kinds they know how to report.
 */
export class OciError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidReferenceError extends OciError {
  /** The reference as given, credentials before its host (if any) replaced by `***`. */
  readonly text: string;

  constructor(text: string, reason: string) {
    super(`invalid image reference "${withoutCredentials(text)}": ${reason}`);
    this.text = withoutCredentials(text);
  }
}

/** No HTTP answer at all: the message says what to check, as nothing else will. */
export class RegistryUnreachableError extends OciError {
  constructor(readonly registry: string, cause: string) {
    super(`registry ${registry} is unreachable: ${cause}; ${unreachableRemedy(cause)}`);
  }
}

function unreachableRemedy(cause: string): string {
  if (/CERT|certificate/.test(cause)) return untrustedCertificateRemedy;
  if (/EPROTO|wrong version number|SSL|TLS/i.test(cause)) return 'a registry that speaks plain http must be listed in --insecure-registries';
  return 'check the host and port, that the registry is running, and the network or proxy between (a plain-http registry also needs --insecure-registries)';
}

/** Wrong or missing credentials. The message names the registry and user, never the secret. */
export class RegistryAuthError extends OciError {
  constructor(readonly registry: string, detail: string) {
    super(`registry ${registry} refused authentication: ${detail}`);
  }
}

/** The identity token `docker login` stored was refused: expired or revoked, only a new login helps. */
export class IdentityTokenRejectedError extends RegistryAuthError {
  constructor(registry: string) {
    super(registry, `its token service rejected the identity token from the docker config; run \`docker login ${registry}\` again`);
  }
}

export class ManifestNotFoundError extends OciError {
  constructor(readonly reference: string) {
    super(`manifest unknown: ${reference} does not exist`);
  }
}

export class BlobNotFoundError extends OciError {
  constructor(readonly repository: string, readonly digest: string) {
    super(`blob unknown: ${digest} is not in ${repository}`);
  }
}

/** A manifest larger than any registry stores: a broken or hostile server, read no further. */
export class ManifestTooLargeError extends OciError {
  constructor(readonly reference: string, readonly maxBytes: number) {
    super(`manifest of ${reference} is larger than ${maxBytes / 1024 / 1024} MiB, more than a registry stores (the distribution registry refuses manifests over 4 MiB); the registry or a proxy in front of it answered something else than a manifest`);
  }
}

/** A manifest that cannot be what it says: not JSON, or a descriptor without a sha256 digest and a size. The reason never quotes the server's text. */
export class InvalidManifestError extends OciError {
  constructor(readonly what: string, reason: string) {
    super(`manifest ${what} is not valid: ${reason}; the source serves a broken or forged manifest, so nothing of it is copied`);
  }
}

export class DigestMismatchError extends OciError {
  constructor(readonly what: string, readonly expected: string, readonly actual: string) {
    super(`digest mismatch for ${what}: expected ${expected}, got ${actual}`);
  }
}

/**
 * The source served a blob of another size than its manifest gives: a clean answer, so sending
 * it again would give the same. The source's copy (or a proxy in front of it) is at fault, not
 * the target; nothing of it is committed.
 */
export class SourceBlobSizeError extends OciError {
  constructor(readonly source: string, readonly digest: string, readonly expected: number, readonly actual: string) {
    super(
      `source ${source} served blob ${digest} with ${actual} where its manifest says ${expected} bytes; ` +
        'the source\'s copy of the blob (or a proxy in front of the source) is damaged, so it is not retried: check the source registry',
    );
  }
}

/**
 * Every byte of a blob arrived from the source, as many as its manifest gives, and the target
 * refused them as not matching the digest: the source's copy is corrupt, and copying it again
 * would send the same bytes.
 */
export class SourceBlobCorruptError extends OciError {
  constructor(readonly source: string, readonly digest: string, readonly size: number, readonly target: string, detail: string) {
    super(
      `source ${source} served blob ${digest} corrupt: all ${size} bytes arrived, but their digest is not ${digest} ` +
        `(the target ${target} refused them: ${detail}); the source's copy of the blob is damaged, so it is not retried: check the source registry`,
    );
  }
}

/** The download of a blob broke off (the connection was cut or reset): worth another try. */
export class BlobDownloadError extends OciError {
  constructor(readonly source: string, readonly digest: string, readonly received: number, readonly expected: number, cause: string) {
    super(`download of blob ${digest} from ${source} broke off after ${received} of ${expected} bytes: ${cause}`);
  }
}

export class UnsupportedMediaTypeError extends OciError {
  constructor(readonly what: string, readonly mediaType: string) {
    super(`${what} has unsupported media type "${mediaType}"`);
  }
}

/** --platforms asked for nothing an image has. */
export class NoMatchingPlatformError extends OciError {
  constructor(readonly what: string, readonly platforms: string[], readonly available: string[]) {
    super(
      `${what} has none of the platforms ${platforms.join(', ')} (it has ${available.join(', ') || 'no platform-specific manifests'}); ` +
        'add one of those to --platforms, or mirror this image without --platforms',
    );
  }
}

/** The registry answered, but not as the distribution spec says it should. */
export class RegistryResponseError extends OciError {
  constructor(
    readonly registry: string,
    readonly operation: string,
    readonly status: number,
    readonly detail: string,
  ) {
    super(`registry ${registry}: ${operation} failed with HTTP ${status}${detail ? `: ${detail}` : ''}`);
  }
}

/**
 * The registry would not store what was sent: a request body over the limit of a proxy in front
 * of it (HTTP 413), or a write over a package quota or size limit (Gitea answers 403 with no
 * reason; Forgejo's quota 413). Sending it again gives the same answer, so it is not retried.
 */
export class UploadRefusedError extends OciError {
  constructor(readonly registry: string, readonly operation: string, readonly status: number, reason: string) {
    super(`registry ${registry} refused ${operation} (HTTP ${status}): ${reason}`);
  }
}

/**
 * The registry refused an index that lists another index, as Gitea and Forgejo do (they take only
 * image manifests in an index): the image cannot be stored there as published, so nothing else
 * about the run is to blame and trying again would change nothing.
 */
export class IndexOfIndexesRefusedError extends OciError {
  constructor(readonly registry: string, readonly reference: string, readonly innerIndex: string, detail: string) {
    super(
      `registry ${registry} refused the index ${reference} (${detail}): it lists another index (${innerIndex}), and Gitea and Forgejo ` +
        'accept only image manifests in an index, so this image cannot be stored there as published; leave it out of the list for this registry, ' +
        'or mirror it to a registry that takes nested indexes or to an OCI layout (--registry=oci:<dir>)',
    );
  }
}

/**
 * A write answered with a 404 that is no registry error, as Gitea and Forgejo answer one to an
 * image name that does not start with one of their users or organisations: GITEA_REGISTRY (or
 * --registry) lacks the owner, or names one that is not there.
 */
export class OwnerNotFoundError extends OciError {
  constructor(readonly registry: string, readonly repository: string, operation: string) {
    const slash = repository.indexOf('/');
    const owner = slash === -1 ? 'this one has no owner part' : `is "${repository.slice(0, slash)}" one?`;
    super(
      `registry ${registry} answered HTTP 404 to ${operation} in ${repository}, as Gitea and Forgejo do when an image name does not start ` +
        `with an existing user or organisation (${owner}); set GITEA_REGISTRY (or --registry) to the host and owner, e.g. ${registry}/admin`,
    );
  }
}

/** The target refused an uploaded blob as not having the digest it was committed under (DIGEST_INVALID). */
export class UploadDigestRejectedError extends RegistryResponseError {}

/** A chunked upload's session is gone (the CNCF registry drops one after a chunk broke off mid-body): only a new upload helps. */
export class UploadSessionLostError extends OciError {
  constructor(readonly registry: string, readonly digest: string, readonly offset: number, reason: string) {
    super(
      `registry ${registry}: the upload of blob ${digest} broke off after ${offset} bytes and cannot resume (${reason}); ` +
        'the blob has to be uploaded again from its start, which copyImage does by itself',
    );
  }
}

/** A chunk kept failing while its upload session stayed alive: the network or the registry is unwell. */
export class ChunkUploadError extends OciError {
  constructor(readonly registry: string, readonly digest: string, readonly offset: number, readonly attempts: number, cause: string) {
    super(
      `registry ${registry}: the upload of blob ${digest} stopped at byte ${offset}, its chunk failed ${attempts} times (last: ${cause}); ` +
        'check the network and the registry, then run again',
    );
  }
}

export class OciLayoutError extends OciError {}

/** Another writer held an OCI layout's index lock for longer than we were willing to wait. */
export class LayoutLockedError extends OciLayoutError {
  constructor(readonly directory: string, readonly holder: string, readonly lockFile: string, waitedMs: number) {
    super(
      `oci:${directory} is locked by ${holder}; gave up after waiting ${waitedMs / 1000} s. ` +
        `Let that process finish, or if it is no longer running, delete ${lockFile} and run again.`,
    );
  }
}
