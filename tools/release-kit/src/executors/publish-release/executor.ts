import type { ExecutorContext } from '@nx/devkit';
import { dryRunRetryPolicy } from '@changemaker/oci';
import {
  defaultRetryPolicy,
  GiteaError,
  PublishError,
  publishRelease,
  ReleaseClient,
  type PublishReport,
  type ReleaseStep,
} from '@changemaker/gitea';
import { buildReleaseArtifacts, BundleError, planRelease } from '@changemaker/release-bundle';
import { giteaLocationFrom, giteaTokenFrom, SettingError, signatureFileName } from '@changemaker/release-contract';
import { unsignedReleaseProblem } from '@changemaker/release-flow';
import type { PackageReleaseOptions } from '../package-release/schema';
import { releaseRequestOf } from '../package-release/release-request';
import { workspaceProjectsOf } from '../../release/workspace-images';
import { workspaceChangelogPath } from '../../release/workspace-changelog';
import { plannedPublishRequest, publishRequestFromOptions } from './publish-request-from-options';
import type { PublishReleaseOptions } from './schema';
import { executorNamed } from '../../executor-names';
import { isDryRun } from '../../release/release-version';
import { retryLine, tokenMaskingPrinter } from '../../report/executor-output';

export default async function runExecutor(options: PublishReleaseOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const token = giteaTokenFrom(process.env);
  const print = tokenMaskingPrinter(token, options.json);
  const dryRun = isDryRun(options, process.env);
  try {
    if (!token && !dryRun) {
      print(
        'GITEA_REGISTRY_API_TOKEN is not set: create a token with write:repository on the remote Gitea and export it ' +
          '(not GITEA_API_TOKEN, which is the local instance\'s). --dry-run works without one.',
        'err',
      );
      return { success: false };
    }
    const changelogFile = workspaceChangelogPath(context.nxJsonConfiguration, context.root);
    const packaging = dryRun ? packagingOf(context) : undefined;
    const planned = packaging
      ? await plannedPublishRequest(options, context.root, changelogFile, async (tag) => buildReleaseArtifacts(await planRelease(releaseRequestOf(packaging, workspaceProjectsOf(context), context.projectName ?? '', tag))))
      : undefined;
    if (planned?.notice) print(`note: ${planned.notice}`);
    const request = planned?.request ?? (await publishRequestFromOptions(options, context.root, context.projectName ?? '', changelogFile));
    // A standalone tool may publish an unsigned package (a test release, say), but never without saying what servers will do with it.
    if (!request.assets.some((asset) => asset.name === signatureFileName)) {
      print(`warning: ${request.tag} is unsigned (no ${signatureFileName} in ${options.inputDir}): ${unsignedReleaseProblem} Package it again with the key set.`, 'err');
    }
    const gitea = giteaLocationFrom(process.env);
    const client = new ReleaseClient({
      giteaUrl: gitea.url,
      repo: gitea.repo,
      token,
      // A plan asks each call once: it does not wait out the retries of a Gitea that is down.
      retry: { ...defaultRetryPolicy, attempts: options.retries ?? defaultRetryPolicy.attempts, baseDelayMs: options.retryDelay ?? defaultRetryPolicy.baseDelayMs, ...(dryRun ? dryRunRetryPolicy : {}) },
      onRetry: (notice) => print(retryLine(notice)),
    });
    print(`${dryRun ? 'Dry run: plan to publish' : 'Publishing'} ${request.tag} to ${client.giteaUrl} (${client.repo})${token ? '' : ', without a token: drafts are not visible'}`);
    const report = await publishRelease(client, request, {
      dryRun,
      onStep: (step, index, total) => print(describeStep(step, index, total)),
      onProgress: (message) => print(`  ${message}`),
    });
    print(summaryOf(report));
    if (options.json) print(JSON.stringify(report), 'out');
    return { success: true };
  } catch (error) {
    if (error instanceof GiteaError || error instanceof PublishError || error instanceof BundleError || error instanceof SettingError) {
      print(error.message, 'err');
      if (options.json) print(JSON.stringify({ error: { kind: error.name, message: error.message } }), 'out');
      return { success: false };
    }
    throw error;
  }
}

/**
 * The package-release target this target depends on, whose dry run writes nothing: a dry run of
 * publish-release plans with the files it would write (built in memory), not with whatever the
 * input directory holds. Undefined when there is none: the input directory is then read as is.
 */
function packagingOf(context: ExecutorContext): PackageReleaseOptions | undefined {
  const project = context.projectsConfigurations?.projects[context.projectName ?? ''];
  const dependencies = project?.targets?.[context.targetName ?? '']?.dependsOn ?? [];
  for (const dependency of dependencies) {
    const name = typeof dependency === 'string' ? (dependency.startsWith('^') ? undefined : dependency) : dependency.dependencies || dependency.projects ? undefined : dependency.target;
    const target = name ? project?.targets?.[name] : undefined;
    if (target?.executor === executorNamed('package-release') && target.options?.sources) return target.options as PackageReleaseOptions;
  }
  return undefined;
}

function describeStep(step: ReleaseStep, index: number, total: number): string {
  const asset = step.asset ? ` (${step.asset.size} bytes, sha256 ${step.asset.sha256})` : '';
  const call = step.call ? `${step.call}: ` : '';
  return `[${index + 1}/${total}] ${call}${step.summary}${asset}`;
}

function summaryOf(report: PublishReport): string {
  const assets = `${report.assets.length} assets`;
  if (report.dryRun) return `Dry run: ${report.steps.length} steps planned (${report.kind}, ${assets}); nothing was changed.`;
  const state = report.draft ? 'saved as a draft' : 'published';
  const verb = { create: 'Created', resume: 'Finished', replace: 'Replaced' }[report.kind];
  return `${verb} ${report.tag}: ${state} with ${assets} at ${report.url}`;
}
