import { findReleaseForPlan } from './release-lookup';
import { planPublish, type PublishKind } from './publish-plan';
import type { PublishRequest } from './publish-request';
import type { ReleaseClient } from './release-client';
import { withdrawClaim, type ReleaseStep, type StepContext } from './release-steps';

export interface PublishCallbacks {
  /** Called before each step runs (or, in a dry run, for each planned step). */
  onStep?: (step: ReleaseStep, index: number, total: number) => void;
  onProgress?: (message: string) => void;
}

export interface PublishReport {
  kind: PublishKind;
  dryRun: boolean;
  tag: string;
  releaseId?: number;
  url?: string;
  draft: boolean;
  prerelease: boolean;
  assets: Array<{ name: string; size: number; sha256: string }>;
  steps: Array<{ call?: string; summary: string }>;
}

/**
 * Publishes (or, with dryRun, only plans) a release: the plan is decided from what the server holds,
 * then its steps run in order. A stop at any step leaves nothing visible, or a draft a re-run finishes.
 */
export async function publishRelease(
  client: ReleaseClient,
  request: PublishRequest,
  options: { dryRun: boolean } & PublishCallbacks,
): Promise<PublishReport> {
  const { existing, assumed } = await findReleaseForPlan(client, request.tag, options.dryRun);
  if (assumed) options.onProgress?.(assumed);
  const plan = planPublish(client.repo, request, existing);
  const context: StepContext = { client, request, onProgress: options.onProgress };
  try {
    for (const [index, step] of plan.steps.entries()) {
      options.onStep?.(step, index, plan.steps.length);
      if (!options.dryRun) await step.run(context);
    }
  } catch (error) {
    // The failure is what the user needs to see. A claim that cannot be withdrawn either is ours:
    // a re-run from here takes it over, and anyone else waits until it counts as abandoned.
    await withdrawClaim(context).catch(() => undefined);
    throw error;
  }
  const release = context.release ?? plan.existing;
  return {
    kind: plan.kind,
    dryRun: options.dryRun,
    tag: request.tag,
    releaseId: release?.id,
    url: release?.html_url,
    draft: options.dryRun ? request.draft : (release?.draft ?? request.draft),
    prerelease: request.prerelease,
    assets: request.assets.map(({ name, size, sha256 }) => ({ name, size, sha256 })),
    steps: plan.steps.map(({ call, summary }) => ({ call, summary })),
  };
}

