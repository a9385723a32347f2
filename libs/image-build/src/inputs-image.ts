import { isIndexMediaType, registryImage, type ChildDescriptor, type FetchedManifest, type ImageReference, type ImageStore, type RegistryClient } from '@changemaker/oci';
import { imageContentOf } from './image-content';

/**
 * The image already under an image's inputs tag, as a rebuild with the lookup off (the weekly one,
 * for base image updates) meets it. Without the layer cache, files are stamped with a time
 * (layer-cache.ts); the rebuild takes that image's, so unchanged files make unchanged layers, and
 * a web server that derives ETags and Last-Modified from file times sees new times only with new
 * content. It is the time the image's config gives as created (reproducible-image.ts).
 */
export async function fileTimeOfImageUnderInputsTag(registry: RegistryClient, inputsReference: ImageReference): Promise<number | undefined> {
  if (!(await registry.headManifest(inputsReference))) return undefined;
  const { store } = registryImage(registry, inputsReference);
  const created = (await imageConfigOf(store, await registry.getManifest(inputsReference))).created;
  const seconds = typeof created === 'string' ? Date.parse(created) / 1000 : Number.NaN;
  return Number.isInteger(seconds) ? seconds : undefined;
}

/**
 * The image under the inputs tag when the rebuild holds what it holds (the same layers and
 * settings, the commit it names aside, image-content.ts): that image stays, as the lookup would
 * have kept it, so a digest changes only when content does. Undefined otherwise.
 */
export async function sameImageUnderInputsTag(registry: RegistryClient, inputsReference: ImageReference, rebuilt: FetchedManifest): Promise<FetchedManifest | undefined> {
  if (!(await registry.headManifest(inputsReference))) return undefined;
  const existing = await registry.getManifest(inputsReference);
  if (existing.digest === rebuilt.digest) return undefined;
  const { store } = registryImage(registry, inputsReference);
  return (await imageContentOf(store, existing)) === (await imageContentOf(store, rebuilt)) ? existing : undefined;
}

/** The config of an image, or of the first platform of a list (they share a build's time). */
async function imageConfigOf(store: ImageStore, manifest: FetchedManifest): Promise<{ created?: unknown }> {
  const image = isIndexMediaType(manifest.mediaType)
    ? await store.getManifest((JSON.parse(manifest.bytes.toString('utf8')) as { manifests: ChildDescriptor[] }).manifests[0]!.digest)
    : manifest;
  const { config } = JSON.parse(image.bytes.toString('utf8')) as { config: { digest: string; size: number } };
  return JSON.parse(Buffer.concat(await (await store.openBlob(config)).toArray()).toString('utf8')) as { created?: unknown };
}
