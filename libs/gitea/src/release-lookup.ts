import { GiteaError, GiteaUnreachableError } from './gitea-errors';
import type { ReleaseClient } from './release-client';
import type { Release } from './release-types';

/** The tag's release a plan starts from, and what a dry run assumed when it could not ask. */
export interface ReleaseLookup {
  existing?: Release;
  assumed?: string;
}

/**
 * Looks up the tag's release. A dry run still plans when Gitea could not be asked (unreachable, or
 * refusing because no token was given), as if no release existed, and says so. A refusal of a
 * token that was given fails even a dry run: the real run would fail the same way.
 */
export async function findReleaseForPlan(client: ReleaseClient, tag: string, dryRun: boolean): Promise<ReleaseLookup> {
  try {
    return { existing: await client.findReleaseByTag(tag) };
  } catch (error) {
    if (!(dryRun && giteaCouldNotBeAsked(error, client.hasToken))) throw error;
    return { assumed: `Gitea not asked (${error.message}); planned as if no release exists for ${tag}` };
  }
}

function giteaCouldNotBeAsked(error: unknown, hasToken: boolean): error is GiteaError {
  return error instanceof GiteaUnreachableError || (!hasToken && error instanceof GiteaError);
}
