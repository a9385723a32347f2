import { ImageReference, lockRecordsDigest, OciError, unrecordedDigestNote, type MirrorLock, type RegistryClient } from '@changemaker/oci';
import { mirrorImagesTargetName, nxRunCommand, type ManifestImage } from '@changemaker/release-contract';
import type { MissingImage } from './release-flow-errors';

export interface ImageCheck {
  /** reference -> digest, for every image found. */
  digests: Map<string, string>;
  missing: MissingImage[];
  /** Set when the registry could not be asked at all. */
  unreachable?: string;
}

/** The command that puts a missing image where the release expects it. */
export type FixFor = (image: ManifestImage) => string;

/**
 * Asks the registry, with one manifest HEAD per image, whether each image the release's compose file
 * pulls is there at the reference it will be pulled by, and what digest it has.
 */
export async function checkReleaseImages(registry: RegistryClient, images: readonly ManifestImage[], fixFor: FixFor): Promise<ImageCheck> {
  const check: ImageCheck = { digests: new Map(), missing: [] };
  try {
    const answers = await Promise.all(images.map(async (image) => [image, await registry.headManifest(ImageReference.parse(image.reference))] as const));
    for (const [image, descriptor] of answers) {
      if (descriptor) check.digests.set(image.reference, descriptor.digest);
      else check.missing.push({ service: image.service, reference: image.reference, fix: fixFor(image) });
    }
  } catch (error) {
    if (!(error instanceof OciError)) throw error;
    check.unreachable = error.message;
  }
  return check;
}

/**
 * Third-party images whose registry digest is not one the mirror lock recorded (upstream's, or
 * an index narrowed to some platforms): the registry holds something other than what was mirrored
 * and tested, e.g. a tag pushed again by hand. An image the lock does not list is not judged here.
 */
export function imagesDriftedFromLock(images: readonly ManifestImage[], check: ImageCheck, lock: MirrorLock, registry: string, product: string): MissingImage[] {
  const drifted: MissingImage[] = [];
  for (const image of images) {
    if (image.source !== 'mirror' || !image.reference.startsWith(`${registry}/`)) continue;
    const pin = image.reference.slice(registry.length + 1);
    const digest = check.digests.get(image.reference);
    if (!lock.has(pin) || !digest || lockRecordsDigest(lock, pin, digest)) continue;
    // The mirror will not overwrite a tag holding what its lock does not record unless told to.
    drifted.push({ service: image.service, reference: image.reference, fix: `the registry ${unrecordedDigestNote(lock, pin, digest)}: check what it is, then mirror it again, ${nxRunCommand(product, mirrorImagesTargetName, `--replace=${pin}`)}` });
  }
  return drifted;
}
