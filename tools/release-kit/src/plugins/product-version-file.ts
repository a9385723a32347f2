import type { NxJsonConfiguration } from '@nx/devkit';

/** A VERSION file in a project, and that project's name. */
export interface VersionFileInProject {
  file: string;
  project: string;
}

/**
 * The released product's VERSION file: the only one in a project; of several, the one whose project
 * nx.json's release names (in release.projects or a release group's projects). Any other VERSION
 * file (a docs site's, say) is only a file: it gets no release targets, and the images keep theirs.
 * Undefined when that does not make one: nx release then says why before writing anything.
 */
export function productVersionFileOf(candidates: readonly VersionFileInProject[], release: NxJsonConfiguration['release']): string | undefined {
  if (candidates.length <= 1) return candidates[0]?.file;
  const named = releasedProjectNames(release);
  const chosen = candidates.filter((candidate) => named.has(candidate.project));
  return chosen.length === 1 ? chosen[0]!.file : undefined;
}

/** The project names nx.json's release lists as they are written (a glob or a tag names none here). */
function releasedProjectNames(release: NxJsonConfiguration['release']): Set<string> {
  const lists = [release?.projects, ...Object.values(release?.groups ?? {}).map((group) => group.projects)];
  return new Set(lists.flatMap((list) => (list === undefined ? [] : Array.isArray(list) ? list : [list])));
}
