import { resolve } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { buildReleaseArtifacts, BundleError, planRelease, writeReleaseArtifacts, type ReleasePlan } from '@changemaker/release-bundle';
import { nxRunCommand, publishReleaseTargetName, SettingError, signatureFileName } from '@changemaker/release-contract';
import type { PackageReleaseOptions } from './schema';
import { formatByteSize } from '../../report/byte-size';
import { isDryRun } from '../../release/release-version';
import { workspaceProjectsOf } from '../../release/workspace-images';
import { releaseRequestOf } from './release-request';
import { refusedForPluginOptions } from '../../plugins/plugin-options';

/** publish-release's own options: its dependsOn (params: forward) passes them on to this task. */
const publishReleaseOptions = ['inputDir', 'notesFile', 'replace', 'draft', 'prerelease', 'retries', 'retryDelay'] as const;

export default async function runExecutor(options: PackageReleaseOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  if (refusedForPluginOptions(context)) return { success: false };
  const forAnotherTask = ranForAnotherTask(context);
  const misplaced = publishReleaseOptions.filter((key) => options[key] !== undefined);
  if (misplaced.length > 0 && !forAnotherTask) {
    const flags = misplaced.map((key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ');
    console.error(`package-release: ${flags} ${misplaced.length > 1 ? 'are options' : 'is an option'} of publish-release, not package-release: run ${nxRunCommand(context.projectName ?? '', publishReleaseTargetName)} with ${misplaced.length > 1 ? 'them' : 'it'}`);
    return { success: false };
  }
  // With --json, stdout holds the JSON line alone. As the dependency of publish-release (which
  // forwards --json) it prints none: that task's report is the one on stdout.
  const json = Boolean(options.json) && !forAnotherTask;
  const say = options.json ? console.error : console.log;
  const dryRun = isDryRun(options, process.env);
  try {
    // A real run packages the tag's commit as committed; a dry run (ahead of nx release's tag) says what that run would refuse.
    const plan = await planRelease({ ...releaseRequestOf(options, workspaceProjectsOf(context), context.projectName ?? '', String(options.tag ?? '')), requireCommitted: !dryRun });
    say(contentsReport(plan));
    for (const notice of plan.notices ?? []) say(`note: ${notice}`);
    const signingKey = plan.signingKey;
    say(signingKey ? `signing SHA256SUMS with the key from ${signingKey.origin}` : 'not signed: set RELEASE_SIGNING_KEY_FILE (or RELEASE_SIGNING_KEY) to sign the release');
    if (dryRun) {
      say(`dry run: nothing written (would write ${plan.name}-${plan.tag}.tar.gz, ${plan.name}-latest.tar.gz, SHA256SUMS${signingKey ? `, ${signatureFileName}` : ''}, release-manifest.json to ${options.outputDir})`);
      if (json) console.log(JSON.stringify({ dryRun: true, tag: plan.tag, files: fileSizes(plan), images: plan.images }));
      return { success: true };
    }
    const artifacts = await buildReleaseArtifacts(plan);
    const written = await writeReleaseArtifacts(artifacts, resolve(context.root, options.outputDir));
    for (const file of written) say(`wrote ${file.path} (${formatByteSize(file.size)})`);
    say(`packaged ${plan.tag}: ${artifacts.manifest.files.length} files, ${plan.images.length} images, tarball ${formatByteSize(artifacts.tarball.length)}, mtime ${plan.sourceDate.mtimeSeconds} (from ${plan.sourceDate.origin})`);
    if (json) console.log(JSON.stringify({ ...artifacts.manifest, written }));
    return { success: true };
  } catch (error) {
    if (error instanceof BundleError || error instanceof SettingError) {
      console.error(error.message.split('\n').map((line) => `package-release: ${line}`).join('\n'));
      return { success: false };
    }
    throw error;
  }
}

function fileSizes(plan: ReleasePlan): Array<{ path: string; size: number }> {
  return plan.entries.map((entry) => (entry.type === 'file' ? { path: entry.path, size: entry.content.length } : { path: `${entry.path}/`, size: 0 }));
}

function contentsReport(plan: ReleasePlan): string {
  const rows = fileSizes(plan).sort((a, b) => (a.path < b.path ? -1 : 1));
  const width = Math.max(...rows.map((row) => formatByteSize(row.size).length));
  const total = rows.reduce((sum, row) => sum + row.size, 0);
  const lines = rows.map((row) => `${formatByteSize(row.size).padStart(width)}  ${row.path}`);
  return [`${plan.name} ${plan.tag}:`, ...lines, `total: ${rows.length} entries, ${formatByteSize(total)}`].join('\n');
}

/** Whether some task of this run depends on this one, so that its command line was forwarded here. */
function ranForAnotherTask(context: ExecutorContext): boolean {
  const graph = context.taskGraph;
  if (!graph) return false;
  const own = Object.values(graph.tasks).find((task) => task.target.project === context.projectName && task.target.target === context.targetName);
  return own !== undefined && Object.values(graph.dependencies).some((dependencies) => dependencies.includes(own.id));
}
