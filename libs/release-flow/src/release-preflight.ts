import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { giteaRepoProblem, giteaUrlProblem } from '@changemaker/gitea';
import { isLoopbackRegistry, registryPrefixProblem, resolveRegistryCredentials } from '@changemaker/oci';
import { signingKeyFromEnv } from '@changemaker/release-bundle';
import { allowedSignersFileName, giteaLocationFrom, installScriptPath, registryFrom } from '@changemaker/release-contract';
import { unsignedReleaseProblem, untrustedSigningKeyProblem, type TrustLists } from './signing-trust';

export interface PreflightRequest {
  env: NodeJS.ProcessEnv;
  /** The run goes on to publish (or, in a dry run, would): the secrets publishing needs must be there. */
  publishes: boolean;
  /** A dry run: missing secrets are reported, not refused (README, "Dry run"); malformed settings fail it as they would fail the release. */
  dryRun: boolean;
  /** The released project: its root in the workspace (`docker`) and that root's absolute path. */
  product: { root: string; path: string };
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
    const signingKey = await signingKeyFromEnv(env).catch((error: Error) => {
      problems.push(error.message);
      return null;
    });
    if (signingKey === undefined) missing(unsignedReleaseProblem);
    if (signingKey) {
      const untrusted = await untrustedSigningKeyProblem(signingKey, await trustListsOf(request.product)).catch((error: Error) => error.message);
      if (untrusted) problems.push(untrusted);
    }
  }
  return { problems, notices };
}

/** The lists as the release commit will ship them: the product's files, read before anything is written. */
async function trustListsOf(product: PreflightRequest['product']): Promise<TrustLists> {
  const read = (file: string) => readFile(join(product.path, file), 'utf8').catch(() => undefined);
  return {
    allowedSigners: { name: `${product.root}/${allowedSignersFileName}`, text: await read(allowedSignersFileName) },
    installScript: { name: `${product.root}/${installScriptPath}`, text: await read(installScriptPath) },
  };
}

/** The preflight's refusal: a first line saying nothing was written, then each problem on its own line. */
export function preflightRefusal(preflight: Preflight): string | undefined {
  if (preflight.problems.length === 0) return undefined;
  return ['the release settings are not usable; nothing was written:', ...preflight.problems.map((problem) => `  ${problem}`)].join('\n');
}
