import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { versionInFile } from '@changemaker/release-contract';

/** What `nx release` hands every nx-release-publish task (and, forwarded, the tasks they depend on). */
export type NxReleaseVersionData = Record<string, { newVersion: string | null } | undefined>;

export class ReleaseVersionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The version being released: what `nx release` just decided (its version data, which a dry run
 * has too although it writes no file), else what the release commit wrote into the VERSION file,
 * so that `nx release publish` run again later publishes the same version.
 */
export async function releaseVersionOf(versionData: NxReleaseVersionData | undefined, workspaceRoot: string, versionFile: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const decided = Object.values(versionData ?? {}).find((data) => data?.newVersion)?.newVersion ?? plannedVersionOf(env);
  if (decided) return decided;
  const path = join(workspaceRoot, versionFile);
  const text = await readFile(path, 'utf8').catch(() => {
    throw new ReleaseVersionError(`${versionFile} not found: it holds the product's version; run nx release (or create it with v0.0.0 before the first release).`);
  });
  const version = versionInFile(text);
  if (!version || version === '0.0.0') {
    throw new ReleaseVersionError(`${versionFile} holds "${text.trim()}", no released version: cut a release with nx release first (nx release publish only publishes one).`);
  }
  return version;
}

/**
 * The version `nx release --dry-run` decided, handed to the publish dry run it walks (see
 * version-file-actions.ts): only a dry run reads it, since nothing is written for that version.
 */
export const plannedVersionVariable = 'NX_RELEASE_PLANNED_VERSION';

function plannedVersionOf(env: NodeJS.ProcessEnv): string | undefined {
  return env['NX_DRY_RUN'] === 'true' ? env[plannedVersionVariable] || undefined : undefined;
}

/** nx release publish --dry-run passes dryRun to its own tasks and NX_DRY_RUN to every task they depend on. */
export function isDryRun(options: { dryRun?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return options.dryRun === true || env['NX_DRY_RUN'] === 'true';
}
