import { Readable } from 'node:stream';
import {
  formatPlatform,
  isImageManifestMediaType,
  isIndexMediaType,
  registryImage,
  sha256Digest,
  type BlobDescriptor,
  type ChildDescriptor,
  type FetchedManifest,
  type ImageReference,
  type ImageStore,
  type RegistryClient,
} from '@changemaker/oci';
import { reproducibleConfig, type CommitStamp } from './build-host-fields';

/**
 * Rewrites the image an engine just pushed to `reference` without the build machine's config
 * fields (see build-host-fields.ts) and with the commit's stamp: its time as `created` (the layers
 * may carry a fixed time, see layer-cache.ts) and the labels not built in, every platform of a
 * list included, so a rebuild of a commit
 * elsewhere is the same image under the same digest. Layers are never touched: only a small
 * config and the manifests above it are sent again. Answers the manifest now at `reference`.
 */
export async function pushReproducibleConfig(registry: RegistryClient, reference: ImageReference, stamp: CommitStamp): Promise<FetchedManifest> {
  const image = registryImage(registry, reference);
  const pushed = await image.store.getManifest(image.reference);
  const rewritten = isIndexMediaType(pushed.mediaType)
    ? await rewriteIndex(image.store, pushed, stamp)
    : await rewriteImageManifest(image.store, pushed, stamp);
  if (!rewritten) return pushed;
  await image.store.putManifest(image.reference, rewritten);
  return rewritten;
}

async function rewriteImageManifest(store: ImageStore, manifest: FetchedManifest, stamp: CommitStamp): Promise<FetchedManifest | undefined> {
  if (!isImageManifestMediaType(manifest.mediaType)) return undefined;
  const content = JSON.parse(manifest.bytes.toString('utf8')) as { config: BlobDescriptor };
  const stripped = reproducibleConfig(Buffer.concat(await (await store.openBlob(content.config)).toArray()), stamp);
  if (!stripped) return undefined;
  const strippedConfig = { digest: sha256Digest(stripped), size: stripped.length };
  await store.writeBlob(strippedConfig, Readable.from([stripped]));
  return manifestOf({ ...content, config: { ...content.config, ...strippedConfig } }, manifest.mediaType);
}

/**
 * Children first, by digest, so the list never names a manifest the registry does not hold; then
 * in platform order, since engines list platforms in the order their parallel builds finished.
 */
async function rewriteIndex(store: ImageStore, index: FetchedManifest, stamp: CommitStamp): Promise<FetchedManifest | undefined> {
  const content = JSON.parse(index.bytes.toString('utf8')) as { manifests: ChildDescriptor[] };
  const manifests: ChildDescriptor[] = [];
  for (const child of content.manifests) {
    const rewritten = await rewriteImageManifest(store, await store.getManifest(child.digest), stamp);
    if (rewritten) await store.putManifest(rewritten.digest, rewritten);
    manifests.push(rewritten ? { ...child, digest: rewritten.digest, size: rewritten.bytes.length } : child);
  }
  manifests.sort((a, b) => formatPlatform(a.platform).localeCompare(formatPlatform(b.platform)));
  const rewritten = manifestOf({ ...content, manifests }, index.mediaType);
  return rewritten.digest === index.digest ? undefined : rewritten;
}

function manifestOf(json: object, mediaType: string): FetchedManifest {
  const bytes = Buffer.from(JSON.stringify(json));
  return { bytes, mediaType, digest: sha256Digest(bytes) };
}
