import { dryRunRetryPolicy, OciError } from '@changemaker/oci';
import { processCommandRunner } from './command-runner';
import { registryClientFor, resolveImageTarget, type ImageBuildOptions } from './build-and-push';
import { readPreviousReleaseTag } from './git-revision';
import { lookUpInputsTag, otherPlatformsLine } from './inputs-image';

/** What a push would do, decided with HEAD requests only: a dry run of buildAndPushImage. */
export type ImagePushPlan = { image: string; references: string[]; inputsTag: string } & (
  | { action: 'build'; reason: string }
  | { action: 'tag-registry-side'; digest: string; from: string }
  | { action: 'unknown'; reason: string }
);

/**
 * Asks the registry what buildAndPushImage would find, and says where an image of the same inputs
 * comes from: the previous release when its tag holds the same digest, else the inputs tag.
 * An unreachable registry does not fail a plan: it is reported as what could not be checked.
 */
export async function planImagePush(options: ImageBuildOptions): Promise<ImagePushPlan> {
  const runner = options.runner ?? processCommandRunner(options.env);
  const target = await resolveImageTarget(options, runner);
  const base = { image: target.repository.name, references: target.references.map(String), inputsTag: target.inputsTag };
  if (!options.push) return { ...base, action: 'build', reason: 'build only (no push)' };
  if (!options.registryCache) return { ...base, action: 'build', reason: 'the inputs lookup is off (--no-registry-cache)' };
  const registry = registryClientFor(options.env, dryRunRetryPolicy);
  try {
    const found = await lookUpInputsTag(registry, target.repository.withTag(target.inputsTag), options.platforms);
    if (!found) return { ...base, action: 'build', reason: 'no image of these inputs in the registry' };
    if (!found.reusable) return { ...base, action: 'build', reason: otherPlatformsLine(target.inputsTag, found.platforms, found.wanted) };
    const existing = found.manifest;
    const currentTag = target.tags.find((tag) => /^v\d/.test(tag)) ?? '';
    const previous = await readPreviousReleaseTag(options.workspaceRoot, runner, currentTag);
    const previousImage = previous ? await registry.headManifest(target.repository.withTag(previous)) : undefined;
    const from = previous && previousImage?.digest === existing.digest ? previous : `${target.inputsTag.slice(0, 19)}…`;
    return { ...base, action: 'tag-registry-side', digest: existing.digest, from };
  } catch (error) {
    if (!(error instanceof OciError)) throw error;
    return { ...base, action: 'unknown', reason: `could not ask the registry (${error.message})` };
  } finally {
    await registry.close();
  }
}
