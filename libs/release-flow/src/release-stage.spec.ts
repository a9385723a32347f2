import { runStages, type ReleaseStage, type StageOutcome } from './release-stage';

interface Walk {
  ran: string[];
  found?: string;
}

const readStage: ReleaseStage<Walk> = {
  name: 'read',
  writes: false,
  async run(walk) {
    walk.ran.push('read');
    walk.found = 'what the registry holds';
  },
  describe: (walk) => [`found ${walk.found}`],
};
const writeStage: ReleaseStage<Walk> = {
  name: 'write',
  writes: true,
  async run(walk) {
    walk.ran.push('write');
  },
  describe: () => ['write the files'],
};
const skippedStage: ReleaseStage<Walk> = {
  name: 'skipped',
  writes: true,
  skipReason: () => 'already published',
  async run(walk) {
    walk.ran.push('skipped');
  },
  describe: () => ['never'],
};

describe('runStages', () => {
  const stages = [readStage, writeStage, skippedStage];

  it('runs every stage in order in a real run, describing a writing stage before it runs', async () => {
    const walk: Walk = { ran: [] };
    const seen: Array<[string, string, string[]]> = [];
    await runStages(stages, walk, { dryRun: false, onStage: (outcome) => seen.push([outcome.stage, outcome.status, [...walk.ran]]) });
    expect(walk.ran).toEqual(['read', 'write']);
    expect(seen).toEqual([
      ['read', 'ran', ['read']],
      ['write', 'running', ['read']],
      ['skipped', 'skipped', ['read', 'write']],
    ]);
  });

  it('walks the same stages in a dry run: reading stages run, writing stages are only described', async () => {
    const walk: Walk = { ran: [] };
    const outcomes: StageOutcome[] = await runStages(stages, walk, { dryRun: true });
    expect(walk.ran).toEqual(['read']);
    expect(outcomes).toEqual([
      { stage: 'read', status: 'ran', lines: ['found what the registry holds'] },
      { stage: 'write', status: 'planned', lines: ['write the files'] },
      { stage: 'skipped', status: 'skipped', lines: ['already published'] },
    ]);
  });

  it('stops at the first failing stage: nothing after it runs', async () => {
    const walk: Walk = { ran: [] };
    const failing: ReleaseStage<Walk> = { ...readStage, name: 'failing', run: async () => Promise.reject(new Error('registry down')) };
    await expect(runStages([failing, writeStage], walk, { dryRun: false })).rejects.toThrow('registry down');
    expect(walk.ran).toEqual([]);
  });
});
