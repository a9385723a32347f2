/** One `FROM` section of a Dockerfile, as far as the layer cache needs to know it. */
export interface DockerfileStage {
  /** The `AS` name, lower-cased as the builders compare it. */
  name?: string;
  base: string;
  /** Whether the stage has a RUN step: the only kind of step a cache saves real work on. */
  runsCommands: boolean;
  /** Stages (names or indexes) it copies or mounts from. */
  usesStages: string[];
}

/** The stages of a Dockerfile: instructions joined across `\` continuations, comments skipped. */
export function parseDockerfileStages(text: string): DockerfileStage[] {
  const stages: DockerfileStage[] = [];
  for (const instruction of instructionsOf(text)) {
    const [keyword, ...words] = instruction.split(/\s+/);
    const flags = words.filter((word) => word.startsWith('--'));
    const current = stages.at(-1);
    switch (keyword.toUpperCase()) {
      case 'FROM': {
        const [base, as, name] = words.filter((word) => !word.startsWith('--'));
        stages.push({ base: base.toLowerCase(), name: as?.toUpperCase() === 'AS' ? name?.toLowerCase() : undefined, runsCommands: false, usesStages: [] });
        break;
      }
      case 'RUN':
        if (current) current.runsCommands = true;
        current?.usesStages.push(...flags.flatMap((flag) => /(?:^--mount=|,)from=([^,\s]+)/.exec(flag)?.slice(1) ?? []));
        break;
      case 'COPY':
      case 'ADD':
        current?.usesStages.push(...flags.flatMap((flag) => /^--from=(.+)$/.exec(flag)?.slice(1) ?? []));
        break;
    }
  }
  return stages;
}

/**
 * Whether building `target` (default: the last stage) runs a command in it or in any stage it
 * builds on. An unknown target counts as yes: the engine will say what is wrong with it.
 */
export function buildRunsCommands(text: string, target?: string): boolean {
  const stages = parseDockerfileStages(text);
  const indexOf = (reference: string) => {
    const byName = stages.findIndex((stage) => stage.name === reference.toLowerCase());
    return byName !== -1 ? byName : /^\d+$/.test(reference) && Number(reference) < stages.length ? Number(reference) : -1;
  };
  const start = target === undefined ? stages.length - 1 : indexOf(target);
  if (start === -1) return true;
  const seen = new Set<number>();
  const visit = (index: number): boolean => {
    if (seen.has(index)) return false;
    seen.add(index);
    const stage = stages[index];
    const needed = [stage.base, ...stage.usesStages].map(indexOf).filter((found) => found !== -1 && found !== index);
    return stage.runsCommands || needed.some(visit);
  };
  return visit(start);
}

function instructionsOf(text: string): string[] {
  const instructions: string[] = [];
  let pending = '';
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    if (`${pending}${line}`.trim() !== '') instructions.push(`${pending}${line}`.trim());
    pending = '';
  }
  if (pending.trim() !== '') instructions.push(pending.trim());
  return instructions;
}
