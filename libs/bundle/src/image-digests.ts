import { imageDigestsFileName } from '@changemaker/release-contract';
import { ImageDigestMissingError } from './bundle-errors';
import { bundleFileEntry, type ReleasePlan } from './release-plan';

/**
 * The plan with the digest each image had in the registry when the release was checked: recorded
 * in the manifest, and shipped in the tarball as image-digests.txt so a server can check what it
 * pulled. Every image must have one: a release pins all it runs or nothing.
 */
export function withImageDigests(plan: ReleasePlan, digests: ReadonlyMap<string, string>): ReleasePlan {
  const images = plan.images.map((image) => {
    const digest = digests.get(image.reference);
    if (!digest) throw new ImageDigestMissingError(image.service, image.reference);
    return { ...image, digest };
  });
  const lines = images.map((image) => `${image.service} ${image.reference} ${image.digest}\n`).join('');
  return { ...plan, images, entries: [...plan.entries, bundleFileEntry(plan.name, imageDigestsFileName, Buffer.from(lines), false)] };
}
