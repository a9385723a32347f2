import { giteaRepoProblem, giteaUrlProblem } from '@changemaker/gitea';
import { isLoopbackRegistry, registryPrefixProblem, resolveRegistryCredentials } from '@changemaker/oci';
import { giteaLocationFrom, registryFrom } from '@changemaker/release-contract';
import { releaseSigningProblem, type ProductLocation } from './signing-trust';

export interface PreflightRequest {
  env: NodeJS.ProcessEnv;
  /** The run goes on to publish (or, in a dry run, would): the secrets publishing needs must be there. */
  publishes: boolean;
  /** A dry run: missing secrets are reported, not refused (README, "Dry run"); malformed settings fail it as they would fail the release. */
  dryRun: boolean;
  /** The released project, whose allowed_signers and install.sh must trust the signing key. */
  product: ProductLocation;
}

export interface Preflight {
  /** Each stops the release before anything is written: one line, what is wrong and how to fix it. */
  problems: string[];
  /** What a dry run could not have done for real. */
  notices: string[];
}

/**
 * What a release needs from its settings, checked before `nx release` writes anything (VERSION,
 * CHANGELOG.md, the release commit and tag): a setting that is malformed would otherwise surface
 * only at the publish step, after the commit and tag exist and the changelog links point at it.
 * Reads only the environment, the docker config and the product's trusted keys: no request is sent.
 */
export async function releasePreflight(request: PreflightRequest): Promise<Preflight> {
  const { env } = request;
  const problems: string[] = [];
  const notices: string[] = [];
  const gitea = giteaLocationFrom(env);
  for (const problem of [giteaUrlProblem(gitea.url), giteaRepoProblem(gitea.repo)]) if (problem) problems.push(problem);
  const registry = registryFrom(env);
  const registryProblem = registryPrefixProblem(registry, 'GITEA_REGISTRY');
  if (registryProblem) problems.push(registryProblem);
  const host = registryProblem ? undefined : registry.split('/')[0];

  const missing = (what: string) => {
    if (request.publishes) (request.dryRun ? notices : problems).push(what);
  };
  if (!env['GITEA_REGISTRY_API_TOKEN']) {
    missing('GITEA_REGISTRY_API_TOKEN is not set: publishing needs a token with write:repository on the Gitea (not GITEA_API_TOKEN).');
  }
  if (host && !isLoopbackRegistry(host)) {
    const credentials = await resolveRegistryCredentials(host, { env }).catch((error: Error) => {
      problems.push(`the credentials for ${host} cannot be read: ${error.message}`);
      return null;
    });
    if (credentials === undefined) {
      missing(`no credentials for the registry ${host}: set GITEA_REGISTRY_USER and GITEA_REGISTRY_PASSWORD, or docker login ${host}; the images are pushed there.`);
    }
  }
  if (request.publishes) {
    const signing = await releaseSigningProblem(env, request.product);
    if (signing?.missingKey) missing(signing.message);
    else if (signing) problems.push(signing.message);
  }
  return { problems, notices };
}

/** The preflight's refusal: a first line saying nothing was written, then each problem on its own line. */
export function preflightRefusal(preflight: Preflight): string | undefined {
  if (preflight.problems.length === 0) return undefined;
  return ['the release settings are not usable; nothing was written:', ...preflight.problems.map((problem) => `  ${problem}`)].join('\n');
}
