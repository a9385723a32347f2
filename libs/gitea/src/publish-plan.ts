import { randomBytes } from 'node:crypto';
import { ReleaseConflictError } from './gitea-errors';
import { ReleaseExistsError } from './publish-errors';
import type { PublishRequest } from './publish-request';
import { isStampedBy } from './publisher-identity';
import { claimNameFor } from './replace-claim';
import {
  claimStep,
  createDraftStep,
  deleteAssetStep,
  finalizeStep,
  keepStep,
  releasesPath,
  renameStep,
  uploadStep,
  useExistingStep,
  verifyStep,
  withdrawClaimStep,
  type PlannedUpload,
  type ReleaseStep,
} from './release-steps';
import type { Release } from './release-types';

export type PublishKind = 'create' | 'resume' | 'replace';

export interface PublishPlan {
  kind: PublishKind;
  /** The release found at the tag, when there was one. */
  existing?: Release;
  steps: ReleaseStep[];
}

/** Assets (and claims) a --replace uploaded but had not renamed or withdrawn yet when it stopped. */
const temporaryName = /^publishing-[0-9a-f]{8}-/;

/**
 * Decides the ordered calls from the release found at the tag (undefined: none): create, resume our
 * own draft, replace, or refuse. Refusals throw before anything is sent.
 */
export function planPublish(repo: string, request: PublishRequest, existing: Release | undefined): PublishPlan {
  if (!existing) return { kind: 'create', steps: planNewRelease(repo, request) };
  // Calls on a release that exists show its id; a release still to be created shows {id}.
  const releasePath = `${releasesPath(repo)}/${existing.id}`;
  if (request.replace) return { kind: 'replace', existing, steps: planReplacement(releasePath, request, existing) };
  const ours = isStampedBy(existing.body, request.publisherId);
  if (!existing.draft && !ours) throw new ReleaseExistsError(request.tag, existing.html_url);
  // Someone else's draft, in progress or abandoned: the same answer a racing POST gets.
  if (!ours) throw new ReleaseConflictError(request.tag, existing.html_url);
  return { kind: 'resume', existing, steps: planResumption(releasePath, request, existing) };
}

function planNewRelease(repo: string, request: PublishRequest): ReleaseStep[] {
  const uploads = uploadsUnderTheirOwnNames(request);
  const releasePath = `${releasesPath(repo)}/{id}`;
  return [
    createDraftStep(repo, request),
    ...uploads.map((upload) => uploadStep(releasePath, upload)),
    verifyStep(releasePath, uploads),
    finalizeStep(releasePath, request, false),
  ];
}

/**
 * Our own draft from a run that stopped: keep what arrived whole, upload the rest. Pushing its tag
 * may have published it meanwhile (Gitea does), stamp and all: it is finished the same way.
 */
function planResumption(releasePath: string, request: PublishRequest, draft: Release): ReleaseStep[] {
  const uploads = uploadsUnderTheirOwnNames(request);
  const arrived = (upload: PlannedUpload) =>
    draft.assets.some((remote) => remote.name === upload.asset.name && remote.size === upload.asset.size);
  const stale = draft.assets.filter(
    (remote) => !request.assets.some((asset) => asset.name === remote.name && asset.size === remote.size),
  );
  return [
    useExistingStep(draft, draft.draft ? 'finish our own draft (made by an earlier run, or claimed for this one)' : 'finish our own release, published by the push of its tag'),
    ...stale.map((remote) => deleteAssetStep(releasePath, remote, 'left incomplete or unknown by an earlier run')),
    ...uploads.map((upload) => (arrived(upload) ? keepStep(upload.asset) : uploadStep(releasePath, upload))),
    verifyStep(releasePath, uploads),
    finalizeStep(releasePath, request, false),
  ];
}

/**
 * --replace keeps a release at the tag throughout: the new assets go up under temporary names and
 * are verified; then, asset by asset, the new one takes its usual name and only then is the old one
 * of that name deleted (Gitea lets two assets share a name), so a download by a usual name never
 * finds none; the notes come last. A claim keeps a second --replace of the same tag out meanwhile.
 */
function planReplacement(releasePath: string, request: PublishRequest, existing: Release): ReleaseStep[] {
  const prefix = `publishing-${randomBytes(4).toString('hex')}-`;
  const uploads = request.assets.map((asset) => ({ asset, uploadName: `${prefix}${asset.name}` }));
  const leftovers = existing.assets.filter((remote) => temporaryName.test(remote.name));
  const old = existing.assets.filter((remote) => !temporaryName.test(remote.name));
  return [
    useExistingStep(existing, 'replace'),
    claimStep(releasePath, claimNameFor(prefix, request.publisherId)),
    ...leftovers.map((remote) => deleteAssetStep(releasePath, remote, 'left by an interrupted --replace')),
    ...uploads.map((upload) => uploadStep(releasePath, upload)),
    verifyStep(releasePath, uploads),
    ...uploads.flatMap((upload) => [
      renameStep(releasePath, upload),
      ...old.filter((remote) => remote.name === upload.asset.name).map((remote) => deleteAssetStep(releasePath, remote, 'replaced')),
    ]),
    ...old.filter((remote) => !request.assets.some((asset) => asset.name === remote.name)).map((remote) => deleteAssetStep(releasePath, remote, 'not part of the new release')),
    withdrawClaimStep(releasePath),
    finalizeStep(releasePath, request, true),
  ];
}

function uploadsUnderTheirOwnNames(request: PublishRequest): PlannedUpload[] {
  return request.assets.map((asset) => ({ asset, uploadName: asset.name }));
}
