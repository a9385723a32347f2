import type { Readable } from 'node:stream';
import { ChunkedUpload, uploadLocationOf } from './chunked-upload';
import type { BlobDescriptor, FetchedManifest, ManifestDescriptor } from './descriptors';
import { sha256Digest, verifyDigest } from './digest';
import { HttpConnections } from './http-connections';
import { isRedirect, maxRedirectHops, redirectTarget } from './http-redirects';
import { ResponseTooLargeError, type HttpResponse } from './http-response';
import type { ImageReference } from './image-reference';
import type { BlobReadOptions } from './image-store';
import { readManifestContent } from './manifest-content';
import { isIndexMediaType, manifestAccept } from './media-types';
import { BlobNotFoundError, DigestMismatchError, IndexOfIndexesRefusedError, ManifestNotFoundError, ManifestTooLargeError, OwnerNotFoundError, RegistryResponseError, SourceBlobSizeError, UploadDigestRejectedError } from './oci-errors';
import { RegistryAuthenticator } from './registry-authenticator';
import { dockerCredentialResolver, type CredentialResolver, type RegistryCredentials } from './registry-credentials';
import { errorDetail, RegistryTransport, type RegistryRequest, type RegistryRequestEvent } from './registry-transport';
import { defaultRetryPolicy, type RetryPolicy } from './retry-policy';
import { SourceBlobStream } from './source-blob-stream';

export interface RegistryClientOptions {
  /** A resolver, or fixed credentials per registry host; defaults to env + ~/.docker/config.json. */
  credentials?: CredentialResolver | Record<string, RegistryCredentials>;
  /** Hosts reached over plain http although not on loopback. */
  insecureRegistries?: string[];
  userAgent?: string;
  retry?: Partial<RetryPolicy>;
  /** Blob uploads are sent in PATCH chunks of this many bytes; unset means one streamed PUT. */
  chunkSize?: number;
  /** Called once per HTTP request sent, e.g. to count manifest GETs. */
  onRequest?: (event: RegistryRequestEvent) => void;
}

/** Where a blob or manifest lives: an ImageReference fits. */
export interface RepositoryLocation {
  registry: string;
  repository: string;
}

/** The distribution registry's own limit on a manifest it accepts (and the OCI spec's "at least" for registries). */
const maxManifestBytes = 4 * 1024 * 1024;

const sha256DigestPattern = /^sha256:[a-f0-9]{64}$/;

const pull = (repository: string) => `repository:${repository}:pull`;
const push = (repository: string) => `repository:${repository}:pull,push`;

/** An OCI distribution API client: manifests and blobs, with auth, retries and exact bytes. */
export class RegistryClient {
  private readonly transport: RegistryTransport;
  private readonly chunkSize?: number;
  private readonly retry: RetryPolicy;
  private readonly connections = new HttpConnections();

  constructor(options: RegistryClientOptions = {}) {
    const userAgent = options.userAgent ?? 'changemaker-oci/1.0';
    this.chunkSize = options.chunkSize;
    if (this.chunkSize !== undefined && (!Number.isInteger(this.chunkSize) || this.chunkSize < 1)) {
      throw new RangeError('chunkSize must be a positive number of bytes');
    }
    this.retry = { ...defaultRetryPolicy, ...options.retry };
    this.transport = new RegistryTransport({
      authenticator: new RegistryAuthenticator(credentialResolverFrom(options.credentials), this.connections, userAgent, this.retry),
      insecureRegistries: options.insecureRegistries ?? [],
      userAgent,
      retry: this.retry,
      connections: this.connections,
      onRequest: options.onRequest,
    });
  }

  /** Ends its connections; call it once its requests are done. */
  async close(): Promise<void> {
    this.connections.close();
  }

  /** Resolves a tag or digest without a GET (Docker Hub does not count HEADs against the quota). */
  async headManifest(ref: ImageReference): Promise<ManifestDescriptor | undefined> {
    const req = this.manifestRequest(ref, 'HEAD');
    const response = await this.transport.send(req);
    await response.discard();
    if (response.statusCode === 404) return undefined;
    if (response.statusCode !== 200) throw new RegistryResponseError(ref.registry, `HEAD manifest ${ref}`, response.statusCode, '');
    const digest = response.header('docker-content-digest') ?? ref.digest;
    if (!digest) {
      // A registry that does not say the digest on HEAD leaves only reading the manifest.
      const fetched = await this.getManifest(ref);
      return { digest: fetched.digest, mediaType: fetched.mediaType, size: fetched.bytes.length };
    }
    if (ref.digest && digest !== ref.digest) throw new DigestMismatchError(ref.toString(), ref.digest, digest);
    // Copies fetch what HEAD names by that digest: a tag name here would be fetched unchecked, by tag.
    if (!sha256DigestPattern.test(digest)) throw new DigestMismatchError(`HEAD manifest ${ref}`, 'a sha256 digest in Docker-Content-Digest', digest.slice(0, 80));
    return { digest, mediaType: mediaTypeOf(response), size: Number(response.header('content-length') ?? 0) };
  }

  async getManifest(ref: ImageReference): Promise<FetchedManifest> {
    const req = this.manifestRequest(ref, 'GET');
    // Gitea and Forgejo serve manifests as they serve blobs: from object storage, by a 307, when
    // their package storage has SERVE_DIRECT on. The digest is checked on the bytes either way.
    const response = await this.sendFollowingRedirects(req);
    if (response.statusCode === 404) {
      await response.discard();
      throw new ManifestNotFoundError(ref.toString());
    }
    if (response.statusCode !== 200) throw await this.transport.failure(req, `GET manifest ${ref}`, response);
    const bytes = await response.bytes(maxManifestBytes).catch((error: unknown) => {
      throw error instanceof ResponseTooLargeError ? new ManifestTooLargeError(ref.toString(), maxManifestBytes) : error;
    });
    const digest = sha256Digest(bytes);
    if (ref.digest) verifyDigest(ref.toString(), bytes, ref.digest);
    const announced = response.header('docker-content-digest');
    if (announced && announced !== digest) throw new DigestMismatchError(ref.toString(), announced, digest);
    return { bytes, mediaType: mediaTypeOf(response), digest };
  }

  /** Stores the bytes exactly as given under the reference's tag (or digest); answers the digest. */
  async putManifest(ref: ImageReference, bytes: Buffer, mediaType: string): Promise<string> {
    const digest = sha256Digest(bytes);
    if (ref.digest && ref.digest !== digest) throw new DigestMismatchError(ref.toString(), ref.digest, digest);
    const req = {
      registry: ref.registry,
      method: 'PUT' as const,
      path: `/v2/${ref.repository}/manifests/${ref.tag ?? digest}`,
      scopes: [push(ref.repository)],
      headers: { 'content-type': mediaType },
      body: bytes,
    };
    const response = await this.transport.send(req);
    if (response.statusCode !== 201) {
      const failure = await this.transport.failure(req, `PUT manifest ${ref}`, response);
      throw indexOfIndexesRefused(ref, bytes, mediaType, failure) ?? ownerNotFound(ref, 'PUT manifest', failure) ?? failure;
    }
    await response.discard();
    const stored = response.header('docker-content-digest');
    if (stored && stored !== digest) throw new DigestMismatchError(`stored manifest ${ref}`, digest, stored);
    return digest;
  }

  /** Answers the blob's size, or undefined when the repository does not have it. */
  async headBlob(location: RepositoryLocation, digest: string): Promise<number | undefined> {
    const response = await this.sendFollowingRedirects(this.blobRequest(location, digest, 'HEAD'));
    await response.discard();
    if (response.statusCode === 404) return undefined;
    if (response.statusCode !== 200) throw new RegistryResponseError(location.registry, `HEAD blob ${digest}`, response.statusCode, '');
    return Number(response.header('content-length') ?? 0);
  }

  /**
   * A stream of the blob's bytes that fails unless exactly as many arrive as the blob has, and at
   * its end unless the digest matches (unless `verify` is false: a registry target checks it anyway).
   */
  async openBlob(location: RepositoryLocation, blob: BlobDescriptor, options: BlobReadOptions = {}): Promise<Readable> {
    const req = this.blobRequest(location, blob.digest, 'GET');
    const response = await this.sendFollowingRedirects(req);
    if (response.statusCode === 404) {
      await response.discard();
      throw new BlobNotFoundError(`${location.registry}/${location.repository}`, blob.digest);
    }
    if (response.statusCode !== 200) throw await this.transport.failure(req, `GET blob ${blob.digest}`, response);
    const source = `${location.registry}/${location.repository}`;
    const announced = response.header('content-length');
    if (announced !== undefined && Number(announced) !== blob.size) {
      // Known before a byte is sent on: a target given fewer bytes than announced would wait for the rest.
      response.body.destroy();
      throw new SourceBlobSizeError(source, blob.digest, blob.size, `Content-Length ${announced}`);
    }
    return SourceBlobStream.of(response.body, source, blob, { verify: options.verify !== false });
  }

  /** Asks the registry to link a blob from another repository on the same host; answers whether it did. */
  async mountBlob(target: RepositoryLocation, digest: string, fromRepository: string): Promise<boolean> {
    const query = new URLSearchParams({ mount: digest, from: fromRepository });
    const req = {
      registry: target.registry,
      method: 'POST' as const,
      path: `/v2/${target.repository}/blobs/uploads/?${query}`,
      scopes: [push(target.repository), pull(fromRepository)],
      headers: { 'content-length': '0' },
    };
    const response = await this.transport.send(req);
    if (response.statusCode !== 201 && response.statusCode !== 202) {
      const failure = await this.transport.failure(req, `mount blob ${digest}`, response);
      throw ownerNotFound(target, 'mount blob', failure) ?? failure;
    }
    await response.discard();
    if (response.statusCode === 201) return true;
    // The registry opened an upload session instead; close it rather than leave it dangling.
    const location = response.header('location');
    if (location) await this.cancelUpload(target, location);
    return false;
  }

  /**
   * Uploads a blob from a stream: one streamed PUT, or PATCH chunks of `chunkSize` with
   * Content-Range for proxies that limit request bodies, which resume where the registry says
   * a broken chunk stopped. Only one chunk is ever in memory.
   */
  async uploadBlob(target: RepositoryLocation, blob: BlobDescriptor, content: Readable): Promise<void> {
    const location = await this.startUpload(target);
    const session = { registry: target.registry, scopes: [push(target.repository)], blob, location };
    const finalLocation = this.chunkSize === undefined
      ? location
      : await new ChunkedUpload(this.transport, this.retry, session).send(content, this.chunkSize);
    const url = new URL(finalLocation, this.transport.baseUrl(target.registry));
    url.searchParams.set('digest', blob.digest);
    const monolithic = this.chunkSize === undefined;
    const req = {
      registry: target.registry,
      method: 'PUT' as const,
      path: url.toString(),
      scopes: [push(target.repository)],
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(monolithic ? blob.size : 0) },
      body: monolithic ? content : undefined,
    };
    const response = await this.transport.send(req);
    if (response.statusCode !== 201) {
      const detail = await errorDetail(response);
      const Failure = response.statusCode === 400 && /\bDIGEST_INVALID\b/.test(detail) ? UploadDigestRejectedError : RegistryResponseError;
      throw new Failure(target.registry, `upload blob ${blob.digest}`, response.statusCode, detail);
    }
    await response.discard();
  }

  private async startUpload(target: RepositoryLocation): Promise<string> {
    const req = {
      registry: target.registry,
      method: 'POST' as const,
      path: `/v2/${target.repository}/blobs/uploads/`,
      scopes: [push(target.repository)],
      headers: { 'content-length': '0' },
    };
    const response = await this.transport.send(req);
    if (response.statusCode !== 202) {
      const failure = await this.transport.failure(req, 'start blob upload', response);
      throw ownerNotFound(target, 'start blob upload', failure) ?? failure;
    }
    await response.discard();
    return uploadLocationOf(target.registry, response);
  }

  private async cancelUpload(target: RepositoryLocation, location: string): Promise<void> {
    const response = await this.transport.send({
      registry: target.registry,
      method: 'DELETE',
      path: new URL(location, this.transport.baseUrl(target.registry)).toString(),
      scopes: [push(target.repository)],
    });
    await response.discard();
  }

  /** Registries backed by object storage (Docker Hub among them) redirect blob requests there; Gitea manifest GETs too. */
  private async sendFollowingRedirects(req: RegistryRequest): Promise<HttpResponse> {
    let response = await this.transport.send(req);
    for (let hops = 0; isRedirect(response.statusCode) && hops < maxRedirectHops; hops++) {
      await response.discard();
      const path = redirectTarget(response.header('location'), this.transport.baseUrl(req.registry)).toString();
      response = await this.transport.send({ ...req, path });
    }
    return response;
  }

  private manifestRequest(ref: ImageReference, method: 'GET' | 'HEAD') {
    return {
      registry: ref.registry,
      method,
      path: `/v2/${ref.repository}/manifests/${ref.manifestReference}`,
      scopes: [pull(ref.repository)],
      headers: { accept: manifestAccept },
    };
  }

  private blobRequest(location: RepositoryLocation, digest: string, method: 'GET' | 'HEAD') {
    return { registry: location.registry, method, path: `/v2/${location.repository}/blobs/${digest}`, scopes: [pull(location.repository)] };
  }
}

function credentialResolverFrom(credentials: RegistryClientOptions['credentials']): CredentialResolver {
  if (typeof credentials === 'function') return credentials;
  if (credentials) return async (registry) => credentials[registry];
  return dockerCredentialResolver();
}

/**
 * Gitea and Forgejo accept only image manifests in an index and answer MANIFEST_INVALID to one
 * that lists another index: say so, since their answer names no reason and nothing can fix it.
 */
function indexOfIndexesRefused(ref: ImageReference, bytes: Buffer, mediaType: string, failure: RegistryResponseError): IndexOfIndexesRefusedError | undefined {
  if (failure.status !== 400 || !/\bMANIFEST_INVALID\b/.test(failure.detail) || !isIndexMediaType(mediaType)) return undefined;
  const content = readManifestContent(ref.toString(), mediaType, bytes);
  const inner = content.kind === 'index' ? content.children.find((child) => isIndexMediaType(child.mediaType)) : undefined;
  return inner ? new IndexOfIndexesRefusedError(ref.registry, ref.toString(), inner.digest, failure.detail) : undefined;
}

/** A 404 to a write that is no registry error (no OCI error code), as Gitea's answer for an unknown owner. */
function ownerNotFound(location: RepositoryLocation, operation: string, failure: RegistryResponseError): OwnerNotFoundError | undefined {
  if (failure.status !== 404 || /^[A-Z_]+(?::|$)/.test(failure.detail)) return undefined;
  return new OwnerNotFoundError(location.registry, location.repository, operation);
}

function mediaTypeOf(response: HttpResponse): string {
  return (response.header('content-type') ?? '').split(';')[0].trim();
}
