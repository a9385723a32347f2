import type { GitRevision } from './git-revision';

export interface LabelSources {
  revision: GitRevision;
  /** Where the source lives, e.g. the repository URL. */
  source?: string;
  version?: string;
}

export const revisionLabel = 'org.opencontainers.image.revision';
export const versionLabel = 'org.opencontainers.image.version';

/** The standard OCI annotations, so `docker inspect` on a server tells which commit it runs. */
export function openContainerLabels({ revision, source, version }: LabelSources): Record<string, string> {
  const labels: Record<string, string> = {
    [revisionLabel]: revision.sha,
    // The commit's time, not the build's: rebuilding a commit must not change its image.
    'org.opencontainers.image.created': new Date(revision.commitTime * 1000).toISOString(),
  };
  if (source) labels['org.opencontainers.image.source'] = source;
  if (version) labels[versionLabel] = version;
  return labels;
}
