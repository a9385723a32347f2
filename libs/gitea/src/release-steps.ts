import { GiteaRequestError, ReleaseConflictError } from './gitea-errors';
import type { LocalAsset } from './local-assets';
import { AssetVerificationError, PublishRefusedError } from './publish-errors';
import type { PublishRequest } from './publish-request';
import { isStampedBy, stampFor } from './publisher-identity';
import type { ReleaseClient } from './release-client';
import { claimReplacement } from './replace-claim';
import type { Attachment, Release } from './release-types';
import { verifyAsset } from './asset-verification';

/** What the steps of one publish share while they run. */
export interface StepContext {
  client: ReleaseClient;
  request: PublishRequest;
  release?: Release;
  /** Held by a --replace while it swaps the assets (see replace-claim.ts). */
  claim?: Attachment;
  onProgress?: (message: string) => void;
}

/**
 * One API call of a publish (goreleaser's "pipe"): it can say what it will do before doing it, so
 * a dry run is the plan printed instead of run.
 */
export interface ReleaseStep {
  /** The API call, e.g. `POST /repos/admin/x/releases`; absent when the step needs none. */
  call?: string;
  summary: string;
  asset?: LocalAsset;
  run(context: StepContext): Promise<void>;
}

/** An asset and the name it is uploaded under (temporary while replacing). */
export interface PlannedUpload {
  asset: LocalAsset;
  uploadName: string;
}

const verifyAttempts = 3;

export function createDraftStep(repo: string, request: PublishRequest): ReleaseStep {
  return {
    call: `POST ${releasesPath(repo)}`,
    summary: `create ${request.tag} as a draft (invisible until every asset is verified)`,
    run: async (context) => {
      context.release = await createOrAdoptOwnDraft(context);
    },
  };
}

/** Works on a release that already exists (our draft, or the one --replace overwrites). */
export function useExistingStep(release: Release, why: string): ReleaseStep {
  return {
    summary: `${why}: release #${release.id} (${release.html_url})`,
    run: async (context) => {
      context.release = release;
    },
  };
}

/** Before a --replace changes anything: our claim on the release, or a refusal that changes nothing. */
export function claimStep(releasePath: string, claimName: string): ReleaseStep {
  return {
    call: `POST ${releasePath}/assets?name=${claimName}, then GET ${releasePath}/assets`,
    summary: 'claim the release for this --replace; stop if another --replace holds it',
    run: async (context) => {
      context.claim = await claimReplacement(context.client, releaseOf(context), claimName, context.request.publisherId);
    },
  };
}

export function withdrawClaimStep(releasePath: string): ReleaseStep {
  return {
    call: `DELETE ${releasePath}/assets/{claim id}`,
    summary: 'withdraw the claim: the assets are swapped',
    run: withdrawClaim,
  };
}

export async function withdrawClaim(context: StepContext): Promise<void> {
  if (!context.claim) return;
  await context.client.deleteAsset(releaseOf(context).id, context.claim.id);
  context.claim = undefined;
}

export function uploadStep(releasePath: string, { asset, uploadName }: PlannedUpload): ReleaseStep {
  return {
    call: `POST ${releasePath}/assets?name=${uploadName}`,
    summary: `upload ${uploadName}`,
    asset,
    run: async (context) => {
      await context.client.uploadAsset(releaseOf(context).id, uploadName, asset);
    },
  };
}

export function keepStep(asset: LocalAsset): ReleaseStep {
  return {
    summary: `keep ${asset.name}: an earlier run uploaded it (its sha256 is checked by the next step)`,
    asset,
    run: async () => undefined,
  };
}

export function deleteAssetStep(releasePath: string, attachment: Attachment, why: string): ReleaseStep {
  return {
    call: `DELETE ${releasePath}/assets/${attachment.id}`,
    summary: `delete ${attachment.name} (${why})`,
    run: async (context) => context.client.deleteAsset(releaseOf(context).id, attachment.id),
  };
}

export function verifyStep(releasePath: string, uploads: PlannedUpload[]): ReleaseStep {
  return {
    call: `GET ${releasePath}/assets, then each asset's download`,
    summary: `verify ${uploads.length} assets: sizes from the list, sha256 of the downloaded bytes; a mismatch is uploaded again`,
    run: (context) => verifyUploads(context, uploads),
  };
}

export function renameStep(releasePath: string, { asset, uploadName }: PlannedUpload): ReleaseStep {
  return {
    call: `PATCH ${releasePath}/assets/{asset id}`,
    summary: `rename ${uploadName} to ${asset.name}`,
    asset,
    run: async (context) => {
      const release = releaseOf(context);
      const uploaded = (await context.client.listAssets(release.id)).find((a) => a.name === uploadName);
      if (!uploaded) throw new AssetVerificationError(uploadName, 'it vanished before it could be renamed');
      await context.client.renameAsset(release.id, uploaded.id, asset.name);
    },
  };
}

/** The last call: notes, title and visibility together, so a release is public only when complete. */
export function finalizeStep(releasePath: string, request: PublishRequest, replacing: boolean): ReleaseStep {
  const what = request.draft ? 'keep it a draft' : 'publish it';
  return {
    call: `PATCH ${releasePath}`,
    summary: replacing ? `update the notes and title last, and ${what}` : `one PATCH: set the notes and ${what}`,
    run: async (context) => {
      try {
        context.release = await context.client.editRelease(releaseOf(context).id, {
          name: request.title,
          body: request.draft ? draftNotes(request) : request.notes,
          draft: request.draft,
          prerelease: request.prerelease,
        });
      } catch (error) {
        if (!request.draft && error instanceof GiteaRequestError && error.status === 500) {
          throw new PublishRefusedError(request.tag, request.target, error.giteaMessage);
        }
        throw error;
      }
    },
  };
}

/**
 * A draft carries its final title and notes from the start, with our stamp: Gitea publishes a draft
 * as it stands when its tag is pushed (services/repository/push.go pushUpdateAddTags).
 */
function draftNotes(request: PublishRequest): string {
  return `${request.notes}\n\n${stampFor(request.publisherId)}`;
}

export function releasesPath(repo: string): string {
  return `/repos/${repo}/releases`;
}

/**
 * A 409 is someone else's release, unless it is our own create whose answer was lost and retried:
 * that draft carries our stamp, and is ours to continue.
 */
async function createOrAdoptOwnDraft({ client, request }: StepContext): Promise<Release> {
  try {
    return await client.createRelease({
      tag_name: request.tag,
      target_commitish: request.target,
      name: request.title,
      body: draftNotes(request),
      draft: true,
      prerelease: request.prerelease,
    });
  } catch (error) {
    if (!(error instanceof ReleaseConflictError)) throw error;
    const existing = await client.findReleaseByTag(request.tag);
    if (existing?.draft && isStampedBy(existing.body, request.publisherId)) return existing;
    throw new ReleaseConflictError(request.tag, existing?.html_url);
  }
}

async function verifyUploads(context: StepContext, uploads: PlannedUpload[]): Promise<void> {
  const { client } = context;
  const releaseId = releaseOf(context).id;
  for (let round = 1; ; round += 1) {
    const remote = await client.listAssets(releaseId);
    let reuploaded = false;
    for (const { asset, uploadName } of uploads) {
      const copies = remote.filter((a) => a.name === uploadName).sort((a, b) => b.id - a.id);
      // A retried upload whose first answer was lost leaves two copies; the newest one stays.
      for (const extra of copies.slice(1)) await client.deleteAsset(releaseId, extra.id);
      const problem = copies[0] ? await verifyAsset(client, copies[0], asset) : 'missing from the release';
      if (!problem) continue;
      if (round >= verifyAttempts) throw new AssetVerificationError(uploadName, `still wrong after ${round} uploads: ${problem}`);
      context.onProgress?.(`re-uploading ${uploadName}: ${problem}`);
      if (copies[0]) await client.deleteAsset(releaseId, copies[0].id);
      await client.uploadAsset(releaseId, uploadName, asset);
      reuploaded = true;
    }
    if (!reuploaded) return;
  }
}

function releaseOf(context: StepContext): Release {
  if (!context.release) throw new Error('a release step ran before the release existed (a bug in the plan)');
  return context.release;
}
