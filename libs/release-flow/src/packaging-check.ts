import { BundleError, planRelease, type ReleaseRequest } from '@changemaker/release-bundle';

/**
 * What packaging would refuse of the release `request` describes, asked before its release commit
 * and tag are made: a compose image neither built here nor pinned, a secret among the files, a
 * service without APP_VERSION. Found only at the packaging step, it came after the images had been
 * tagged with the version and the commit and tag made, leaving a release to abandon.
 */
export async function packagingProblem(request: ReleaseRequest): Promise<string | undefined> {
  try {
    await planRelease({ ...request, requireCommitted: false });
    return undefined;
  } catch (error) {
    if (error instanceof BundleError) return error.message;
    throw error;
  }
}
