import type { NxJsonConfiguration } from '@nx/devkit';

/**
 * The released product among the projects that hold a VERSION file: the only one; of several, the
 * one nx.json's release names (in release.projects or a release group's projects). Any other
 * VERSION file (a docs site's, say) is only a file: it gets no release targets, and the images
 * keep theirs. Undefined when that does not make one: nx release then says why before writing anything.
 */
export function productOf<Candidate extends { project: string }>(candidates: readonly Candidate[], release: NxJsonConfiguration['release']): Candidate | undefined {
  if (candidates.length <= 1) return candidates[0];
  const named = releasedProjectNames(release);
  const chosen = candidates.filter((candidate) => named.has(candidate.project));
  return chosen.length === 1 ? chosen[0] : undefined;
}

/** The project names nx.json's release lists as they are written (a glob or a tag names none here). */
function releasedProjectNames(release: NxJsonConfiguration['release']): Set<string> {
  const lists = [release?.projects, ...Object.values(release?.groups ?? {}).map((group) => group.projects)];
  return new Set(lists.flatMap((list) => (list === undefined ? [] : Array.isArray(list) ? list : [list])));
}
