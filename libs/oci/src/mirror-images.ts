import { BlobTransfers } from './blob-transfers';
import { executeCopyPlan, planCopy, resolveCopy, type CopyExecutionOptions, type CopyImageResult } from './copy-image';
import { HostLimiter } from './host-limiter';
import { mapAtMost } from './map-at-most';
import type { ImageLocation } from './image-store';
import { ImageReference } from './image-reference';
import type { MirrorImage } from './mirror-list';
import { OciLayout } from './oci-layout';
import { knownNarrowedDigest, lockedDigestIfMoved, lockRecordsDigest, unrecordedDigestNote, type MirrorLock } from './mirror-lock';
import { InvalidReferenceError, ManifestNotFoundError, RegistryUnreachableError } from './oci-errors';
import type { RegistryClient } from './registry-client';
import { BlobSightings, registryImage } from './registry-repository';

export interface MirrorImagesOptions {
  client: RegistryClient;
  /** host[:port][/namespace] the targets go under, e.g. gitea.bnkops.com/admin. */
  targetRegistry: string;
  /** Images copied at once; blob transfers per registry host are limited to four times this. */
  concurrency: number;
  /** Unset: every platform, digests unchanged. */
  platforms?: string[];
  /** Plan exactly as a real run does (resolve, compare, decide), then write nothing. */
  dryRun?: boolean;
  /** What earlier runs mirrored: an upstream tag that moved since is refused, and narrowed digests are known. */
  lock?: MirrorLock;
  /** Pins (targets, e.g. postgres:16-alpine) whose moved upstream digest is accepted, or all of them. */
  acceptMoved?: 'all' | ReadonlySet<string>;
  /** Pins whose target tag may be overwritten although it names an image the lock does not record, or all of them. */
  replaceOccupied?: 'all' | ReadonlySet<string>;
  onImageDone?: (outcome: MirrorOutcome) => void;
  /** Called as each blob is copied, with its size, so long runs can report bytes as they go. */
  onBytesCopied?: (bytes: number) => void;
  onBlobRetry?: CopyExecutionOptions['onBlobRetry'];
}

/**
 * `replaced`: the target tag named another image, one the lock records, and names the new one now.
 * `moved`: upstream's tag names another digest than the lock records; refused until accepted.
 * `occupied`: the target tag names an image the lock does not record; refused until replaced
 * (see mayReplace). A dry run says `would-copy` and `would-replace` for what the real run writes.
 */
export type MirrorStatus = 'copied' | 'replaced' | 'current' | 'would-copy' | 'would-replace' | 'moved' | 'occupied' | 'failed';

export interface MirrorOutcome {
  group: string;
  source: string;
  /** Where it goes, as reports name it. */
  target: string;
  /** The pin's target as the mirror list gives it (the lock's key), e.g. postgres:16-alpine. */
  pin: string;
  status: MirrorStatus;
  /** What the source names upstream, once resolved. */
  upstreamDigest?: string;
  /** What the target tag names (or would): upstream's digest unless narrowed. */
  digest?: string;
  /** The platforms kept when narrowing changed the digest. */
  narrowedTo?: string[];
  /** For `moved` and `occupied`: the (upstream) digest the lock records, if it lists the pin. */
  lockedDigest?: string;
  /** For `replaced`, `would-replace` and `occupied`: the other image the target tag named when the run found it. */
  existingDigest?: string;
  copy?: CopyImageResult;
  /** Why it failed or was refused, with what to do about it. */
  error?: string;
  durationMs: number;
}

/** Where one image of a mirror run goes, and how reports name that place. */
export interface MirrorTarget {
  location: ImageLocation;
  description: string;
  /** The registry it goes to; none for an OCI layout. */
  registry?: string;
}

/**
 * Plans every target before any request, so a bad --registry fails with nothing written.
 * `oci:<dir>` mirrors into an OCI image layout (a bundle for an air-gapped server) instead.
 */
export function mirrorTargets(targetRegistry: string, images: MirrorImage[], client: RegistryClient, sightings = new BlobSightings()): MirrorTarget[] {
  if (targetRegistry.startsWith('oci:')) {
    const layout = new OciLayout(targetRegistry.slice('oci:'.length));
    return images.map((image) => ({ location: { store: layout, reference: image.target }, description: `${layout.description}:${image.target}` }));
  }
  return images.map((image) => {
    const ref = ImageReference.parse(`${targetRegistry.replace(/\/+$/, '')}/${image.target}`);
    if (!targetRegistry.startsWith(ref.registry)) {
      throw new InvalidReferenceError(targetRegistry, 'the target registry must start with a host, e.g. gitea.bnkops.com/admin or 127.0.0.1:5000, or be oci:<directory>');
    }
    return { location: registryImage(client, ref, sightings), description: ref.toString(), registry: ref.registry };
  });
}

/**
 * Mirrors each image independently: one failing is reported and the others carry on. Layers
 * already copied for one image are mounted for the next.
 */
export async function mirrorImages(images: MirrorImage[], options: MirrorImagesOptions): Promise<MirrorOutcome[]> {
  const sightings = new BlobSightings();
  const targets = mirrorTargets(options.targetRegistry, images, options.client, sightings);
  const limiter = new HostLimiter(options.concurrency * 4);
  const transfers = new BlobTransfers();
  const onBlobDone: CopyExecutionOptions['onBlobDone'] = (blob, outcome) => {
    if (outcome === 'copied') options.onBytesCopied?.(blob.size);
  };
  const unreachable = new UnreachableRegistries();
  return mapAtMost(images, options.concurrency, async (image, index) => {
    const outcome = await mirrorOne(image, targets[index], options, { limiter, transfers, onBlobDone, onBlobRetry: options.onBlobRetry }, sightings, unreachable);
    options.onImageDone?.(outcome);
    return outcome;
  });
}

type SharedCopyOptions = Pick<CopyExecutionOptions, 'limiter' | 'transfers' | 'onBlobDone' | 'onBlobRetry'>;

/** The same steps for a dry run and a real one: resolve, check the lock, plan; only a real run executes. */
async function mirrorOne(
  image: MirrorImage,
  target: MirrorTarget,
  options: MirrorImagesOptions,
  shared: SharedCopyOptions,
  sightings: BlobSightings,
  unreachable: UnreachableRegistries,
): Promise<MirrorOutcome> {
  const started = Date.now();
  const source = image.source.toString();
  const base = { group: image.group, source, target: target.description, pin: image.target };
  const finish = (fields: Omit<MirrorOutcome, keyof typeof base | 'durationMs'>): MirrorOutcome => ({ ...base, ...fields, durationMs: Date.now() - started });
  const lock = options.lock ?? new Map();
  const down = unreachable.among(image.source.registry, target.registry);
  if (down) return finish({ status: 'failed', error: down });
  try {
    const resolved = await resolveCopy(registryImage(options.client, image.source, sightings), target.location);
    const upstreamDigest = resolved.upstream.digest;
    const lockedDigest = lockedDigestIfMoved(lock, image.target, source, upstreamDigest);
    if (lockedDigest && !isAccepted(options.acceptMoved, image.target)) {
      return finish({ status: 'moved', upstreamDigest, lockedDigest, error: movedMessage(image, lockedDigest, upstreamDigest) });
    }
    const knownNarrowed = options.platforms ? knownNarrowedDigest(lock, image.target, source, upstreamDigest, options.platforms) : undefined;
    const plan = await planCopy(resolved, { platforms: options.platforms, knownNarrowedDigest: knownNarrowed });
    const decided = { upstreamDigest, digest: plan.wanted.digest, narrowedTo: plan.wanted.digest !== upstreamDigest ? options.platforms : undefined };
    const existingDigest = plan.action === 'copy' ? plan.existing : undefined;
    if (existingDigest && !mayReplace(lock, image.target, existingDigest, options.replaceOccupied)) {
      return finish({ ...decided, status: 'occupied', existingDigest, lockedDigest: lock.get(image.target)?.digest, error: occupiedMessage(lock, image, existingDigest) });
    }
    if (options.dryRun) return finish({ ...decided, existingDigest, status: plan.action === 'current' ? 'current' : existingDigest ? 'would-replace' : 'would-copy' });
    const copy = await executeCopyPlan(plan, shared);
    return finish({ ...decided, existingDigest, status: existingDigest ? 'replaced' : copy.status, copy });
  } catch (error) {
    unreachable.note(error);
    return finish({ status: 'failed', error: explainFailure(error, image) });
  }
}

/**
 * Registries that answered nothing, every retry included: the images still to come that need one
 * fail at once, in a short line, instead of each waiting out the same retries to say the same.
 */
class UnreachableRegistries {
  private readonly down = new Set<string>();

  note(error: unknown): void {
    if (error instanceof RegistryUnreachableError) this.down.add(error.registry);
  }

  among(...registries: Array<string | undefined>): string | undefined {
    const registry = registries.find((candidate) => candidate !== undefined && this.down.has(candidate));
    return registry ? `not tried: registry ${registry} did not answer for an earlier image (see its message)` : undefined;
  }
}

function isAccepted(accept: MirrorImagesOptions['acceptMoved'], pin: string): boolean {
  return accept === 'all' || (accept?.has(pin) ?? false);
}

/**
 * Whether a run may overwrite a target tag that names another image than the one it copies. It is
 * always reported (`replaced`, was and now), since servers pulling the tag get another image; the
 * question is whether it also needs a flag.
 *
 * Not when the tag names a digest the lock records for the pin: this mirror wrote it, and the change
 * was decided where the lock changes, by accepting an upstream move with --update, editing the pin's
 * source in the list, or changing --platforms. A second flag would ask twice for one decision.
 *
 * When it names anything else, yes (--replace): someone pushed to the mirror by hand, another checkout
 * mirrored with a lock not committed here, or the registry was restored from a backup. Nobody here can
 * say what that image is, a registry keeps no history of a tag to restore it from, and the servers
 * pulling it would change with nobody having chosen it. Refused as `occupied`, like a `moved` pin, until
 * the pin is named. Not by --update: that accepts what upstream now serves, judged against the lock;
 * this discards what the mirror holds, and `--update` alone (every moved pin) must not also overwrite
 * images pushed by hand.
 */
function mayReplace(lock: MirrorLock, pin: string, existingDigest: string, replaceOccupied: MirrorImagesOptions['replaceOccupied']): boolean {
  return lockRecordsDigest(lock, pin, existingDigest) || isAccepted(replaceOccupied, pin);
}

function occupiedMessage(lock: MirrorLock, image: MirrorImage, existingDigest: string): string {
  return `the tag ${unrecordedDigestNote(lock, image.target, existingDigest)} (pushed by hand, or mirrored with another lock); ` +
    `check what it is, then replace it with --replace=${image.target}`;
}

function movedMessage(image: MirrorImage, from: string, to: string): string {
  return `upstream moved ${image.target} from ${from} to ${to} (${image.source} at ${image.file}:${image.line}); ` +
    `check what changed upstream, then accept it with --update=${image.target}, or pin the digest you tested in the list (name:tag@sha256:...)`;
}

/** A missing image is most often a pin that is wrong or a tag removed upstream: point at the line to fix. */
function explainFailure(error: unknown, image: MirrorImage): string {
  const message = (error as Error).message;
  const pinned = `${image.source.registry}/${image.source.repository}:${image.source.manifestReference}`;
  if (error instanceof ManifestNotFoundError && error.reference === pinned) {
    return `${image.file}:${image.line}: ${message}; check the pin: the tag may be misspelt or removed upstream (list its tags with \`skopeo list-tags docker://${image.source.name}\`)`;
  }
  return message;
}
