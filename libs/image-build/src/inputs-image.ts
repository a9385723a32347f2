import { registryImage, type FetchedManifest, type ImageReference, type ImageStore, type RegistryClient } from '@changemaker/oci';
import { imageConfigOf, imageContentOf, imagePlatformsOf, platformManifestsOf } from './image-content';
import { effectivePlatforms } from './platforms';

/**
 * The image already under an image's inputs tag, as a rebuild with the lookup off (the weekly one,
 * for base image updates) meets it: asked for once, before the build, which takes its file time,
 * and compared with what the build pushed.
 */
export interface InputsImage {
  store: ImageStore;
  manifest: FetchedManifest;
}

export async function imageUnderInputsTag(registry: RegistryClient, inputsReference: ImageReference): Promise<InputsImage | undefined> {
  if (!(await registry.headManifest(inputsReference))) return undefined;
  return { store: registryImage(registry, inputsReference).store, manifest: await registry.getManifest(inputsReference) };
}

/** What the lookup found under the inputs tag: an image to tag registry-side, or one of other platforms, never to be reused. */
export type InputsTagLookup =
  | { reusable: true; manifest: FetchedManifest }
  | { reusable: false; platforms: string[]; wanted: string[] };

/**
 * The image under the inputs tag, when there is one, and whether it is for exactly the platforms
 * this build makes (platforms.ts): a tag written by another machine, an older toolchain or by hand
 * is checked, not trusted, before the image is given a release's tags.
 */
export async function lookUpInputsTag(registry: RegistryClient, inputsReference: ImageReference, requestedPlatforms: readonly string[]): Promise<InputsTagLookup | undefined> {
  const found = await imageUnderInputsTag(registry, inputsReference);
  if (!found) return undefined;
  const platforms = await imagePlatformsOf(found.store, found.manifest);
  const wanted = effectivePlatforms(requestedPlatforms).platforms;
  if (isForExactly(platforms, wanted)) return { reusable: true, manifest: found.manifest };
  return { reusable: false, platforms, wanted };
}

/** Whether an image's platforms (as imagePlatformsOf lists them) are exactly `wanted` (as effectivePlatforms does). */
export function isForExactly(platforms: readonly string[], wanted: readonly string[]): boolean {
  return platforms.join(',') === wanted.join(',');
}

/** Why the image of these inputs cannot stand for them, in the words every report uses. */
export function otherPlatformsLine(inputsTag: string, platforms: readonly string[], wanted: readonly string[]): string {
  return `the image for these inputs (${inputsTag.slice(0, 19)}…) is for ${platforms.join(', ') || 'no platform'}, not ${wanted.join(', ')}`;
}

/**
 * Without the layer cache, files are stamped with a time (layer-cache.ts); the rebuild takes this
 * image's, so unchanged files make unchanged layers, and a web server that derives ETags and
 * Last-Modified from file times sees new times only with new content. It is the time the image's
 * config gives as created (reproducible-image.ts); the platforms of a list share it.
 */
export async function fileTimeOf({ store, manifest }: InputsImage): Promise<number | undefined> {
  const [first] = await platformManifestsOf(store, manifest);
  const created = first ? (await imageConfigOf(store, first)).created : undefined;
  const seconds = typeof created === 'string' ? Date.parse(created) / 1000 : Number.NaN;
  return Number.isInteger(seconds) ? seconds : undefined;
}

/**
 * Whether the rebuild holds what this image holds (the same layers and settings, the commit it
 * names aside, image-content.ts) under another digest: then this image stays, as the lookup would
 * have kept it, so a digest changes only when content does.
 */
export async function holdsWhatTheRebuildHolds({ store, manifest }: InputsImage, rebuilt: FetchedManifest): Promise<boolean> {
  if (manifest.digest === rebuilt.digest) return false;
  return (await imageContentOf(store, manifest)) === (await imageContentOf(store, rebuilt));
}
