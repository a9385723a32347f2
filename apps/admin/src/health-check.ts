/** One row of the dashboard: is a service answering, and which build is it. */
export interface ServiceHealth {
  service: string;
  up: boolean;
  detail: string;
}

/** Health routes as the browser sees them through the reverse proxy (apps/nginx). */
export const HEALTH_ROUTES: ReadonlyArray<{ service: string; path: string }> = [
  { service: 'api', path: '/api/health' },
  { service: 'media-api', path: '/media/api/health' },
];

interface HealthAnswer {
  status?: unknown;
  version?: unknown;
  commit?: unknown;
}

export async function checkHealth(service: string, url: string): Promise<ServiceHealth> {
  try {
    const response = await fetch(url, { headers: { accept: 'application/json' } });
    if (!response.ok) return { service, up: false, detail: `HTTP ${response.status}` };
    const answer = (await response.json()) as HealthAnswer;
    if (answer.status !== 'ok') return { service, up: false, detail: `status ${String(answer.status)}` };
    const version = String(answer.version ?? 'unknown');
    const commit = String(answer.commit ?? 'unknown');
    return { service, up: true, detail: `version ${version}, commit ${commit}` };
  } catch (error) {
    return { service, up: false, detail: error instanceof Error ? error.message : String(error) };
  }
}
