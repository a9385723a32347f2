import { isImageManifestMediaType, isIndexMediaType } from './media-types';
import { InvalidManifestError, UnsupportedMediaTypeError } from './oci-errors';
import type { BlobDescriptor, ChildDescriptor, Platform } from './descriptors';

export type ManifestContent =
  | { kind: 'index'; children: ChildDescriptor[]; json: Record<string, unknown> }
  | { kind: 'image'; blobs: BlobDescriptor[] };

/** Reads what a manifest refers to: an index's child manifests, or an image's config and layers. */
export function readManifestContent(what: string, mediaType: string, bytes: Buffer): ManifestContent {
  const json = parseManifestJson(what, bytes);
  const effectiveType = mediaType || (json['mediaType'] as string | undefined) || '';
  if (isIndexMediaType(effectiveType)) {
    return { kind: 'index', children: descriptorsOf(what, 'manifests', json['manifests'] ?? []) as ChildDescriptor[], json };
  }
  if (isImageManifestMediaType(effectiveType)) {
    const config = json['config'] === undefined ? [] : descriptorsOf(what, 'config', [json['config']]);
    const layers = descriptorsOf(what, 'layers', json['layers'] ?? []);
    return { kind: 'image', blobs: [...config, ...layers].map(({ digest, size }) => ({ digest, size })) };
  }
  throw new UnsupportedMediaTypeError(what, effectiveType);
}

function parseManifestJson(what: string, bytes: Buffer): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InvalidManifestError(what, 'it is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InvalidManifestError(what, 'it is not a JSON object');
  return json as Record<string, unknown>;
}

const sha256DigestPattern = /^sha256:[a-f0-9]{64}$/;

/**
 * Every descriptor names content by its sha256 digest and size. Anything else is refused before
 * it is used: a "digest" that is a tag name would be fetched from the source by tag (no digest to
 * check it against) and written to the target under that tag, overwriting another image's.
 */
function descriptorsOf(what: string, field: string, value: unknown): BlobDescriptor[] {
  if (!Array.isArray(value)) throw new InvalidManifestError(what, `its ${field} is not a list`);
  return value.map((descriptor: unknown, index) => {
    const { digest, size } = (typeof descriptor === 'object' && descriptor !== null ? descriptor : {}) as Partial<BlobDescriptor>;
    if (typeof digest !== 'string' || !sha256DigestPattern.test(digest)) throw new InvalidManifestError(what, `${field}[${index}] names no sha256 digest`);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new InvalidManifestError(what, `${field}[${index}] has no size in bytes`);
    return descriptor as BlobDescriptor;
  });
}

/** "linux/arm64/v8" as in --platform. */
export function formatPlatform(platform: Platform | undefined): string {
  if (!platform) return 'unknown';
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}
