import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isStampedBy, publisherIdentity, ReleaseConflictError, stampFor, type Release, type ReleaseClient } from '@changemaker/gitea';
import { missingTagProblem, readReleaseCommit } from './git-remote';
import { isPrereleaseVersion } from './prerelease-version';
import { GiteaTokenMissingError, ReleaseHeldElsewhereError, ReleaseSigningRefusedError, ReleaseTagError } from './release-flow-errors';
import { releaseSigningProblem, type ProductLocation } from './signing-trust';

/**
 * Two `nx release` of one version at once (a laptop and CI, each with its own release commit) would
 * both push their images under `v<version>` and `latest` before either reaches Gitea: the loser's
 * images would replace the winner's in the registry, under a release whose manifest (and every
 * server's upgrade.sh) expects the winner's digests. So a release claims its tag before any image is
 * pushed: the tag's Gitea release, created as a draft that names the release commit. Gitea keeps one
 * release per tag (a second create answers 409), so exactly one claim wins; the draft stays
 * invisible until the release's own stages finish and publish it, and the loser has pushed nothing.
 */

/**
 * Who an nx release is: its tag and its release commit. The draft is stamped with it (see
 * publisher-identity.ts), so a re-run of the same release commit, on any machine, finishes it, and a
 * release of another commit never touches it.
 */
export function releasePublisherId(tag: string, commit: string): string {
  return publisherIdentity('nx release', tag, commit);
}

export interface ReleaseClaimRequest {
  workspaceRoot: string;
  tag: string;
  gitea: ReleaseClient;
  /** Holds the release signing key (RELEASE_SIGNING_KEY_FILE or RELEASE_SIGNING_KEY). */
  env: NodeJS.ProcessEnv;
  /** The released project, whose trust lists must hold the key. */
  product: ProductLocation;
}

export interface ReleaseClaim {
  release: Release;
  /** False when the release was already this release commit's (another image task, or an earlier run, claimed it). */
  created: boolean;
}

/**
 * Claims `tag` for the release commit at HEAD (the tag must be there, and the signing key one servers
 * trust), or throws, recording for nx release's last line that another commit holds it.
 */
export async function claimRelease({ workspaceRoot, tag, gitea, env, product }: ReleaseClaimRequest): Promise<ReleaseClaim> {
  if (!gitea.hasToken) throw new GiteaTokenMissingError();
  const commit = await readReleaseCommit(workspaceRoot, tag);
  if (!commit.tagged) {
    throw new ReleaseTagError(await missingTagProblem(workspaceRoot, tag, `, so no image was pushed under ${tag}`));
  }
  await checkReleaseSigning({ tag, env, product, dryRun: false });
  try {
    const claim = await claimTag(gitea, tag, commit.sha, product.name);
    clearHeldElsewhere(workspaceRoot, tag);
    return claim;
  } catch (error) {
    if (error instanceof ReleaseHeldElsewhereError) recordHeldElsewhere(workspaceRoot, { tag, commit: commit.sha, holder: error.holder, url: error.url, draft: error.draft });
    throw error;
  }
}

export interface SigningCheckRequest {
  tag: string;
  env: NodeJS.ProcessEnv;
  product: ProductLocation;
  dryRun: boolean;
}

/**
 * nx release publish runs no version step, so no preflight: without this, its image tasks would
 * push every image under the tag and `latest`, and claim the tag's release, before the product's
 * signing stage refused a release that no server would install. So each image task checks the key
 * first, as the preflight does: a key the product's lists lack (or that cannot be read or used)
 * is refused, in a dry run too; a missing key is refused, but a dry run gets it back as a notice.
 */
export async function checkReleaseSigning({ tag, env, product, dryRun }: SigningCheckRequest): Promise<string | undefined> {
  const problem = await releaseSigningProblem(env, product, tag);
  if (!problem) return undefined;
  if (dryRun && problem.missingKey) return problem.message;
  throw new ReleaseSigningRefusedError(`nothing was pushed under ${tag} and no Gitea release was made: ${problem.message}`);
}

async function claimTag(gitea: ReleaseClient, tag: string, commit: string, product: string): Promise<ReleaseClaim> {
  const publisherId = releasePublisherId(tag, commit);
  // Looked up first: a re-run after the release is public must not even try a write.
  let existing = await gitea.findReleaseByTag(tag);
  if (!existing) {
    try {
      const release = await gitea.createRelease({
        tag_name: tag,
        target_commitish: commit,
        name: tag,
        body: `${tag} is being released from ${commit}; nx release uploads its files and publishes it.\n\n${stampFor(publisherId)}`,
        draft: true,
        // Marked from the start: Gitea publishes the draft as it stands if its tag is pushed by hand.
        prerelease: isPrereleaseVersion(tag),
      });
      return { release, created: true };
    } catch (error) {
      // Someone created it between the look-up and the create: this release's other image tasks
      // claim at the same moment (or a create whose answer was lost was retried), or another release won.
      if (!(error instanceof ReleaseConflictError)) throw error;
      existing = await gitea.findReleaseByTag(tag);
      if (!existing) throw error;
    }
  }
  if (isStampedBy(existing.body, publisherId) || existing.target_commitish === commit) return { release: existing, created: false };
  throw new ReleaseHeldElsewhereError(tag, commit, existing.target_commitish ?? 'an unknown commit', existing.html_url, existing.draft, product);
}

/** What nx release's last line needs from a claim that lost: the line is written by another process, at exit. */
export interface HeldElsewhere {
  tag: string;
  /** This release commit. */
  commit: string;
  /** The commit that holds the tag's release. */
  holder: string;
  url: string;
  /** Still a draft: its release may be under way, or abandoned without deleting it. */
  draft: boolean;
}

/** Under dist/ (ignored by git): it describes this checkout only. */
function heldElsewherePath(workspaceRoot: string, tag: string): string {
  return join(workspaceRoot, 'dist', 'release-claims', `${tag}.json`);
}

function recordHeldElsewhere(workspaceRoot: string, held: HeldElsewhere): void {
  const path = heldElsewherePath(workspaceRoot, held.tag);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(held)}\n`);
}

/** Forgets a lost claim: the tag's release won, or this release commit was abandoned. */
export function clearHeldElsewhere(workspaceRoot: string, tag: string): void {
  rmSync(heldElsewherePath(workspaceRoot, tag), { force: true });
}

/** Synchronous: read by an exit listener. */
export function readHeldElsewhere(workspaceRoot: string, tag: string): HeldElsewhere | undefined {
  try {
    return JSON.parse(readFileSync(heldElsewherePath(workspaceRoot, tag), 'utf8')) as HeldElsewhere;
  } catch {
    return undefined;
  }
}
