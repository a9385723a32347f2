import { isImageManifestMediaType, isIndexMediaType } from './media-types';
import { UnsupportedMediaTypeError } from './oci-errors';
import type { BlobDescriptor, ChildDescriptor, Platform } from './descriptors';

export type ManifestContent =
  | { kind: 'index'; children: ChildDescriptor[]; json: Record<string, unknown> }
  | { kind: 'image'; blobs: BlobDescriptor[] };

/** Reads what a manifest refers to: an index's child manifests, or an image's config and layers. */
export function readManifestContent(what: string, mediaType: string, bytes: Buffer): ManifestContent {
  const json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  const effectiveType = mediaType || (json['mediaType'] as string | undefined) || '';
  if (isIndexMediaType(effectiveType)) {
    return { kind: 'index', children: (json['manifests'] as ChildDescriptor[] | undefined) ?? [], json };
  }
  if (isImageManifestMediaType(effectiveType)) {
    const config = json['config'] as BlobDescriptor | undefined;
    const layers = (json['layers'] as BlobDescriptor[] | undefined) ?? [];
    return { kind: 'image', blobs: [...(config ? [config] : []), ...layers].map(({ digest, size }) => ({ digest, size })) };
  }
  throw new UnsupportedMediaTypeError(what, effectiveType);
}

/** "linux/arm64/v8" as in --platform. */
export function formatPlatform(platform: Platform | undefined): string {
  if (!platform) return 'unknown';
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}
