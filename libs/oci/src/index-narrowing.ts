import type { ChildDescriptor, FetchedManifest } from './descriptors';
import { sha256Digest } from './digest';
import { formatPlatform, readManifestContent } from './manifest-content';
import { isIndexMediaType } from './media-types';
import { NoMatchingPlatformError } from './oci-errors';
import { attestedDigest, isAttestation, isWantedPlatform } from './platform-selection';

export interface NarrowedImage {
  /** What the target tag is to name: the upstream manifest itself when every child was kept. */
  top: FetchedManifest;
  /** Every index rewritten on the way down, the top one included, by digest. */
  rewritten: Map<string, FetchedManifest>;
}

interface Narrowing {
  platforms: string[];
  readManifest: (digest: string) => Promise<FetchedManifest>;
  describe: (digest: string) => string;
  rewritten: Map<string, FetchedManifest>;
  /** Platforms met on the way, to name them when none was wanted. */
  seen: Set<string>;
}

/**
 * Keeps the children of an index (at any depth: a child index is narrowed in turn) built for the
 * wanted platforms, with the attestations of kept children and the structure above them. The
 * rewritten indexes are computed here, so the same upstream digest and platforms always give the
 * same narrowed digest, which is what lets a later run decide "current" from HEADs alone.
 */
export async function narrowToPlatforms(
  manifest: FetchedManifest,
  platforms: string[],
  readManifest: (digest: string) => Promise<FetchedManifest>,
  describe: (digest: string) => string,
): Promise<NarrowedImage> {
  const narrowing: Narrowing = { platforms, readManifest, describe, rewritten: new Map(), seen: new Set() };
  const top = await narrowManifest(manifest, narrowing);
  if (!top) throw new NoMatchingPlatformError(describe(manifest.digest), platforms, [...narrowing.seen]);
  return { top, rewritten: narrowing.rewritten };
}

/** Undefined when nothing under this manifest is for a wanted platform. */
async function narrowManifest(manifest: FetchedManifest, narrowing: Narrowing): Promise<FetchedManifest | undefined> {
  const content = readManifestContent(narrowing.describe(manifest.digest), manifest.mediaType, manifest.bytes);
  if (content.kind === 'image') return manifest;
  const kept = new Map<ChildDescriptor, ChildDescriptor>();
  await Promise.all(content.children.filter((child) => !isAttestation(child)).map(async (child) => {
    const narrowed = await narrowChild(child, narrowing);
    if (narrowed) kept.set(child, narrowed);
  }));
  const keptDigests = new Set([...kept.keys()].map((child) => child.digest));
  const children = content.children.flatMap((child) => {
    if (isAttestation(child)) return keptDigests.has(attestedDigest(child) ?? '') ? [child] : [];
    return kept.has(child) ? [kept.get(child) as ChildDescriptor] : [];
  });
  if (children.length === 0) return undefined;
  const unchanged = children.length === content.children.length && children.every((child, i) => child === content.children[i]);
  if (unchanged) return manifest;
  const bytes = Buffer.from(JSON.stringify({ ...content.json, manifests: children }));
  const narrowed = { bytes, mediaType: manifest.mediaType, digest: sha256Digest(bytes) };
  narrowing.rewritten.set(narrowed.digest, narrowed);
  return narrowed;
}

/** The child as the narrowed index lists it, or undefined when it goes. */
async function narrowChild(child: ChildDescriptor, narrowing: Narrowing): Promise<ChildDescriptor | undefined> {
  if (!isIndexMediaType(child.mediaType)) {
    narrowing.seen.add(formatPlatform(child.platform));
    return isWantedPlatform(child, narrowing.platforms) ? child : undefined;
  }
  const inner = await narrowManifest(await narrowing.readManifest(child.digest), narrowing);
  if (!inner) return undefined;
  return inner.digest === child.digest ? child : { ...child, digest: inner.digest, size: inner.bytes.length };
}
