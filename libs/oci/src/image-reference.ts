import { InvalidReferenceError } from './oci-errors';
import { carriesCredentials, credentialsInReference } from './reference-credentials';

// The grammar of github.com/distribution/reference, kept as close to the original as possible.
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6Address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const hostPattern = new RegExp(`^(?:${domainName}|${ipv6Address})(?::[0-9]+)?$`);
const pathComponentPattern = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const sha256Pattern = /^sha256:[a-f0-9]{64}$/;
const maxNameLength = 255;

export const dockerHub = 'docker.io';

/**
 * A parsed and normalised image reference: `alpine` becomes docker.io/library/alpine,
 * `127.0.0.1:5000/a/b:1@sha256:...` keeps host, port, tag and digest.
 */
export class ImageReference {
  private constructor(
    readonly registry: string,
    readonly repository: string,
    readonly tag?: string,
    readonly digest?: string,
  ) {}

  static parse(text: string): ImageReference {
    if (text.trim() !== text || text === '') throw new InvalidReferenceError(text, 'empty or surrounded by spaces');
    // Before any other check, whose reason could quote the password.
    if (carriesCredentials(text)) throw new InvalidReferenceError(text, credentialsInReference);
    const [withoutDigest, digest, ...extra] = text.split('@');
    if (extra.length > 0) throw new InvalidReferenceError(text, 'more than one "@"');
    const { name, tag } = splitTag(withoutDigest);
    const { registry, repository } = splitRegistry(text, name);
    return ImageReference.of(text, registry, repository, tag, digest);
  }

  /** Builds a reference from parts, validating each as parse() does. */
  static of(text: string, registry: string, repository: string, tag?: string, digest?: string): ImageReference {
    if (!hostPattern.test(registry)) throw new InvalidReferenceError(text, `"${registry}" is not a valid registry host`);
    const port = /:(\d+)$/.exec(registry)?.[1];
    if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) {
      throw new InvalidReferenceError(text, `port ${port} of "${registry}" is not a TCP port (1 to 65535)`);
    }
    validateRepository(text, repository);
    if (tag !== undefined && !tagPattern.test(tag)) {
      throw new InvalidReferenceError(text, `"${tag}" is not a valid tag (letters, digits, _ . -, at most 128, not starting with . or -)`);
    }
    if (digest !== undefined) validateDigest(text, digest);
    return new ImageReference(normaliseRegistry(registry), repository, tag, digest);
  }

  withTag(tag: string): ImageReference {
    return ImageReference.of(this.toString(), this.registry, this.repository, tag, undefined);
  }

  withDigest(digest: string): ImageReference {
    return ImageReference.of(this.toString(), this.registry, this.repository, this.tag, digest);
  }

  /** What the registry API addresses: the digest when pinned, else the tag, else `latest`. */
  get manifestReference(): string {
    return this.digest ?? this.tag ?? 'latest';
  }

  /** registry/repository without tag or digest. */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  toString(): string {
    return `${this.name}${this.tag ? `:${this.tag}` : ''}${this.digest ? `@${this.digest}` : ''}`;
  }
}

function splitTag(text: string): { name: string; tag?: string } {
  const lastColon = text.lastIndexOf(':');
  // A colon before the last slash belongs to host:port, not to a tag.
  if (lastColon === -1 || lastColon < text.lastIndexOf('/')) return { name: text };
  return { name: text.slice(0, lastColon), tag: text.slice(lastColon + 1) };
}

function splitRegistry(text: string, name: string): { registry: string; repository: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  // Like docker: the first component is a host only if it looks like one.
  const looksLikeHost = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  if (looksLikeHost) {
    const registry = normaliseRegistry(first);
    const path = name.slice(slash + 1);
    return { registry, repository: registry === dockerHub ? officialImagePath(path) : path };
  }
  if (name === '') throw new InvalidReferenceError(text, 'no repository name');
  return { registry: dockerHub, repository: officialImagePath(name) };
}

/** Docker Hub's official images live under library/. */
function officialImagePath(path: string): string {
  return path.includes('/') ? path : `library/${path}`;
}

function normaliseRegistry(registry: string): string {
  return registry === 'index.docker.io' || registry === 'registry-1.docker.io' ? dockerHub : registry;
}

function validateRepository(text: string, repository: string): void {
  if (repository === '') throw new InvalidReferenceError(text, 'no repository name');
  for (const component of repository.split('/')) {
    if (!pathComponentPattern.test(component)) {
      throw new InvalidReferenceError(text, `"${component}" is not a valid name component (lowercase letters, digits, separators . _ __ -)`);
    }
  }
  if (repository.length > maxNameLength) throw new InvalidReferenceError(text, `repository name longer than ${maxNameLength} characters`);
}

function validateDigest(text: string, digest: string): void {
  if (!digestPattern.test(digest)) throw new InvalidReferenceError(text, `"${digest}" is not a valid digest`);
  if (digest.startsWith('sha256:') && !sha256Pattern.test(digest)) {
    throw new InvalidReferenceError(text, `"${digest}" is not a sha256 digest (64 lowercase hex digits)`);
  }
}

/**
 * What is wrong with a registry prefix images are named under (GITEA_REGISTRY, --registry:
 * host[:port][/namespace]), in one line naming `setting`; undefined when `<prefix>/<name>:latest`
 * parses with that host as its registry.
 */
export function registryPrefixProblem(prefix: string, setting: string): string | undefined {
  // Not repeated: user:password@ before the host (or after a scheme) must not reach a log.
  if (/^([a-z][a-z0-9+.-]*:\/\/)?[^/]*@/i.test(prefix)) {
    return `${setting} carries credentials (user:password@): remove them; the registry credentials go in GITEA_REGISTRY_USER and GITEA_REGISTRY_PASSWORD, or docker login.`;
  }
  const host = prefix.split('/')[0] ?? '';
  let why: string;
  try {
    if (ImageReference.parse(`${prefix}/image:latest`).registry === normaliseRegistry(host)) return undefined;
    why = `"${host}" is not a registry host (a host has a dot or a port, or is localhost)`;
  } catch (error) {
    why = error instanceof InvalidReferenceError ? error.message.replace(/^invalid image reference "[^"]*": /, '') : String(error);
  }
  // Gitea's owners may have capitals (Acme); its registry serves their packages under the lowercase name.
  const lowercased = `${host}${prefix.slice(host.length).toLowerCase()}`;
  if (lowercased !== prefix && registryPrefixProblem(lowercased, setting) === undefined) {
    return `${setting} "${prefix}" has capitals after the host, which no image name may have; Gitea finds an owner by its name in lowercase too: set it to ${lowercased}`;
  }
  return `${setting} "${prefix}" is not a registry host[:port][/namespace] (${why}): set it like gitea.example.org/admin, with no scheme and no tag`;
}
