/**
 * One stage of a release (goreleaser's "pipe"): it may say why it is skipped, declares whether it
 * writes or sends anything, and describes itself. A dry run is the same walk over the same stages:
 * stages that only read (files, HEAD requests, GETs) run in both, so the plan is made from what the
 * registry and Gitea really hold; a writing stage is described instead of run.
 */
export interface ReleaseStage<Context> {
  name: string;
  /** True when running it writes a file, pushes, uploads or publishes. */
  writes: boolean;
  /** Why it does not run this time (in a real run and a dry run alike), or undefined. */
  skipReason?(context: Context): string | undefined;
  /**
   * One line each: for a writing stage what it will do (printed before it runs, or instead of
   * running in a dry run); for a reading stage what it found (printed after it ran).
   */
  describe(context: Context): string[];
  run(context: Context): Promise<void>;
}

export type StageStatus = 'ran' | 'running' | 'planned' | 'skipped';

export interface StageOutcome {
  stage: string;
  status: StageStatus;
  lines: string[];
}

export interface StageRunOptions {
  dryRun: boolean;
  onStage?: (outcome: StageOutcome, index: number, total: number) => void;
}

export async function runStages<Context>(stages: ReadonlyArray<ReleaseStage<Context>>, context: Context, options: StageRunOptions): Promise<StageOutcome[]> {
  const outcomes: StageOutcome[] = [];
  const report = (outcome: StageOutcome, index: number) => {
    outcomes.push(outcome);
    options.onStage?.(outcome, index, stages.length);
  };
  for (const [index, stage] of stages.entries()) {
    const reason = stage.skipReason?.(context);
    if (reason) {
      report({ stage: stage.name, status: 'skipped', lines: [reason] }, index);
    } else if (!stage.writes) {
      await stage.run(context);
      report({ stage: stage.name, status: 'ran', lines: stage.describe(context) }, index);
    } else if (options.dryRun) {
      report({ stage: stage.name, status: 'planned', lines: stage.describe(context) }, index);
    } else {
      report({ stage: stage.name, status: 'running', lines: stage.describe(context) }, index);
      await stage.run(context);
    }
  }
  return outcomes;
}
