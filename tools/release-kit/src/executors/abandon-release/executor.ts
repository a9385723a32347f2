import { dirname } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { defaultRetryPolicy, GiteaError, ReleaseClient } from '@changemaker/gitea';
import { dryRunRetryPolicy } from '@changemaker/oci';
import { giteaLocationFrom, giteaTokenFrom, SettingError } from '@changemaker/release-contract';
import { abandonmentOf, abandonStages, quotedSubject, ReleaseFlowError, runStages, type Abandonment } from '@changemaker/release-flow';
import { gitRemoteOf } from '../../release/release-remote';
import { isDryRun } from '../../release/release-version';
import { retryLine, tokenMaskingPrinter } from '../../report/executor-output';
import { describeOutcome } from '../../report/stage-lines';
import type { AbandonReleaseOptions } from './schema';

export default async function runExecutor(options: AbandonReleaseOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const token = giteaTokenFrom(process.env);
  const print = tokenMaskingPrinter(token, options.json);
  const dryRun = isDryRun(options, process.env);
  try {
    const gitea = giteaLocationFrom(process.env);
    const abandonment = await abandonmentOf({
      root: context.root,
      productRoot: dirname(options.versionFile),
      remote: options.gitRemote ?? gitRemoteOf(context.projectsConfigurations?.projects[context.projectName ?? '']),
      gitea: new ReleaseClient({
        giteaUrl: gitea.url,
        repo: gitea.repo,
        token,
        retry: dryRun ? dryRunRetryPolicy : defaultRetryPolicy,
        onRetry: (notice) => print(retryLine(notice)),
      }),
      dryRun,
    });
    print(`${dryRun ? 'Dry run: plan to abandon' : 'Abandoning'} ${abandonment.tag}: the release commit ${abandonment.head.slice(0, 12)} (${quotedSubject(abandonment.subject)})`);
    const outcomes = await runStages(abandonStages(), abandonment, { dryRun, onStage: (outcome, index, total) => print(describeOutcome(outcome, index, total)) });
    print(summaryOf(abandonment, dryRun));
    if (options.json) print(JSON.stringify({ tag: abandonment.tag, dryRun, releaseCommit: abandonment.head, head: dryRun ? abandonment.head : abandonment.previous.sha, stages: outcomes }), 'out');
    return { success: true };
  } catch (error) {
    if (error instanceof ReleaseFlowError || error instanceof GiteaError || error instanceof SettingError) {
      print(`abandon failed: ${error.message}`, 'err');
      if (options.json) print(JSON.stringify({ error: { kind: error.name, message: error.message } }), 'out');
      return { success: false };
    }
    throw error;
  }
}

function summaryOf(abandonment: Abandonment, dryRun: boolean): string {
  const undone = [abandonment.draft ? 'its draft in Gitea' : undefined, abandonment.tagged ? `the tag ${abandonment.tag}` : undefined, 'the release commit'].filter(Boolean).join(', ');
  if (dryRun) return `dry run: nothing was changed; a real run deletes ${undone}`;
  return `abandoned ${abandonment.tag}: deleted ${undone}; HEAD is ${abandonment.previous.sha.slice(0, 12)} (${quotedSubject(abandonment.previous.subject)}) again. Cut the release anew with npx nx release`;
}
