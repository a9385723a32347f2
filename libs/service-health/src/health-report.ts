/** What every service answers on GET /api/health. */
export interface HealthReport {
  status: 'ok';
  service: string;
  version: string;
  commit: string;
}

const UNKNOWN = 'unknown';

/**
 * Version and commit come from the image (ARG APP_VERSION / GIT_COMMIT passed to ENV), so a
 * running container can say which build it is; a source run has neither and says "unknown".
 */
export function healthReport(service: string, env: NodeJS.ProcessEnv = process.env): HealthReport {
  return {
    status: 'ok',
    service,
    version: env.APP_VERSION || UNKNOWN,
    commit: env.GIT_COMMIT || UNKNOWN,
  };
}
