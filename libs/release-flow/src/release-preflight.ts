import { GiteaError, giteaRepoProblem, giteaUrlProblem, ReleaseClient } from '@changemaker/gitea';
import { dockerCredentialResolver, ImageReference, isLoopbackRegistry, OciError, RegistryClient, resolveRegistryCredentials } from '@changemaker/oci';
import { giteaLocationFrom, giteaTokenFrom, SettingError, type GiteaLocation } from '@changemaker/release-contract';
import { releaseRegistryOf } from './release-registry';
import { releaseSigningProblem, type ProductLocation } from './signing-trust';

export interface PreflightRequest {
  env: NodeJS.ProcessEnv;
  /** The run goes on to publish (or, in a dry run, would): the secrets publishing needs must be there. */
  publishes: boolean;
  /** A dry run: missing secrets are reported, not refused (README, "Dry run"); malformed settings fail it as they would fail the release. */
  dryRun: boolean;
  /** The released project, whose allowed_signers and install.sh must trust the signing key. */
  product: ProductLocation;
  /** The registry the product's release target is given (the plugin's registry option), which its images are pushed to; unset: GITEA_REGISTRY. */
  registryOption?: string;
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
  let gitea: GiteaLocation;
  try {
    gitea = giteaLocationFrom(env);
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    return { problems: [error.message], notices };
  }
  for (const problem of [giteaUrlProblem(gitea.url), giteaRepoProblem(gitea.repo)]) if (problem) problems.push(problem);
  let registry: string | undefined;
  try {
    registry = releaseRegistryOf(request.registryOption, env);
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    problems.push(error.message);
  }
  const host = registry?.split('/')[0];

  const missing = (what: string) => {
    if (request.publishes) (request.dryRun ? notices : problems).push(what);
  };
  if (!giteaTokenFrom(env)) {
    missing('GITEA_REGISTRY_API_TOKEN is not set: publishing needs a token with write:repository on the Gitea (not GITEA_API_TOKEN).');
  }
  if (host && !isLoopbackRegistry(host)) {
    const credentials = await resolveRegistryCredentials(host, { env }).catch((error: Error) => {
      problems.push(`the credentials for ${host} cannot be read: ${error.message}`);
      return null;
    });
    if (credentials === undefined) {
      // GITEA_REGISTRY_USER and GITEA_REGISTRY_PASSWORD go to GITEA_REGISTRY's host only.
      const envCredentials = request.registryOption ? `or set GITEA_REGISTRY to ${registry} with GITEA_REGISTRY_USER and GITEA_REGISTRY_PASSWORD` : 'or set GITEA_REGISTRY_USER and GITEA_REGISTRY_PASSWORD';
      missing(`no credentials for the registry ${host}: docker login ${host}, ${envCredentials}; the images are pushed there.`);
    }
  }
  if (request.publishes) {
    const signing = await releaseSigningProblem(env, request.product);
    if (signing?.missingKey) missing(signing.message);
    else if (signing) problems.push(signing.message);
  }
  return { problems, notices };
}

/**
 * A real release that publishes asks Gitea and the registry before anything is written: a GITEA_URL
 * or GITEA_REPO that names no repository, a token Gitea does not know or that may not write releases,
 * or either server unreachable would otherwise stop it only at the publish step, after the release
 * commit and tag (and, for the registry, the tag's claim in Gitea). Nothing is changed: one release
 * listing, one edit of a release that cannot exist (refused for a token that may not write, 404
 * otherwise), and one manifest HEAD of a repository that need not exist (404 when the registry and
 * its credentials work). Call it once releasePreflight found the settings well-formed. A dry run
 * needs none of it: its publish plan asks both and reports what it could not check.
 */
export async function releaseServicesProblems(env: NodeJS.ProcessEnv, options: { attempts?: number; registryOption?: string } = {}): Promise<string[]> {
  const problems: string[] = [];
  const gitea = giteaLocationFrom(env);
  const retry = { attempts: options.attempts ?? 2, baseDelayMs: 200, maxDelayMs: 1_000 };
  try {
    const client = new ReleaseClient({ giteaUrl: gitea.url, repo: gitea.repo, token: giteaTokenFrom(env), retry });
    await client.listReleases().next();
    await client.checkReleaseWriteAccess();
  } catch (error) {
    if (!(error instanceof GiteaError)) throw error;
    problems.push(`Gitea: ${error.message}`);
  }
  const registry = new RegistryClient({ credentials: dockerCredentialResolver({ env }), retry, userAgent: 'changemaker-release-kit preflight' });
  try {
    await registry.headManifest(ImageReference.parse(`${releaseRegistryOf(options.registryOption, env)}/${registryProbeRepository}:latest`));
  } catch (error) {
    if (!(error instanceof OciError)) throw error;
    problems.push(`the registry: ${error.message}`);
  } finally {
    await registry.close();
  }
  return problems;
}

/** The repository the registry check asks for: any answer but 404 says the registry or its credentials do not work. */
export const registryProbeRepository = 'changemaker-release-preflight';

/** The preflight's refusal: a first line saying nothing was written, then each problem on its own line. */
export function preflightRefusal(preflight: Preflight): string | undefined {
  if (preflight.problems.length === 0) return undefined;
  return ['the release settings are not usable; nothing was written:', ...preflight.problems.map((problem) => `  ${problem}`)].join('\n');
}
