import { ReplaceInProgressError } from './publish-errors';
import type { ReleaseClient } from './release-client';
import type { Attachment, Release } from './release-types';

/**
 * Two --replace runs on one tag would delete each other's uploads and rename two sets of assets
 * onto the same names. Gitea has no lock, but attachment ids only grow: each run uploads a claim
 * asset first, then lists the release, and the oldest live claim wins. A loser withdraws its
 * claim before it has changed anything else.
 */
const claimName = /^publishing-[0-9a-f]{8}-claim-([0-9a-f]{16})$/;

/** A claim this much older than ours is from a run that died without withdrawing it. */
export const abandonedClaimAge = 30 * 60 * 1000;

export function claimNameFor(uploadPrefix: string, publisherId: string): string {
  return `${uploadPrefix}claim-${publisherId}`;
}

/**
 * Uploads our claim and answers it, or withdraws it and throws when an earlier live claim of
 * another publisher holds the release. Our own earlier claim (a re-run after a crash) never blocks.
 */
export async function claimReplacement(client: ReleaseClient, release: Release, name: string, publisherId: string): Promise<Attachment> {
  const ours = await client.uploadAsset(release.id, name, { text: `publish-release --replace of ${release.tag_name}\n` });
  const holder = (await client.listAssets(release.id)).find((asset) => isLiveClaimAhead(asset, ours, publisherId));
  if (!holder) return ours;
  await client.deleteAsset(release.id, ours.id);
  throw new ReplaceInProgressError(release.tag_name, holder.name, holder.created_at, abandonedAt(holder));
}

function isLiveClaimAhead(asset: Attachment, ours: Attachment, publisherId: string): boolean {
  const publisher = claimName.exec(asset.name)?.[1];
  if (!publisher || publisher === publisherId || asset.id >= ours.id) return false;
  // Ages are compared on the server's clock (this machine's may be off); a claim without a time counts as live.
  const age = Date.parse(ours.created_at ?? '') - Date.parse(asset.created_at ?? '');
  return !(age > abandonedClaimAge);
}

function abandonedAt(claim: Attachment): string | undefined {
  const created = Date.parse(claim.created_at ?? '');
  return Number.isNaN(created) ? undefined : new Date(created + abandonedClaimAge).toISOString();
}
