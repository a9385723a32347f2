/** What every service answers on GET /api/health. */
export interface HealthReport {
  status: 'ok';
  service: string;
  version: string;
  commit: string;
}

const UNKNOWN = 'unknown';

/**
 * `version` is the release the container runs and `commit` the commit its image was built from.
 * Both default to the image's build args (ARG APP_VERSION / GIT_COMMIT passed to ENV). A release
 * tags an unchanged service's existing image registry-side, keeping its config (and digest), so
 * the image's APP_VERSION is its build's (`unknown` for CI's unversioned pushes); the release's
 * compose file therefore sets APP_VERSION to the tag it pulls (`${IMAGE_TAG:-v1.2.3}`), and that
 * wins. GIT_COMMIT is left to the image: the commit it was built from, which may be older than the
 * release's own commit when the service did not change. A source run has neither: "unknown".
 */
export function healthReport(service: string, env: NodeJS.ProcessEnv = process.env): HealthReport {
  return {
    status: 'ok',
    service,
    version: env.APP_VERSION || UNKNOWN,
    commit: env.GIT_COMMIT || UNKNOWN,
  };
}
