import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NxJsonConfiguration } from '@nx/devkit';

/**
 * The workspace changelog nx release writes (nx.json's release.changelog.workspaceChangelog.file,
 * Nx's `{workspaceRoot}/CHANGELOG.md` by default), whose section for a version is that release's
 * notes; undefined when nx.json turns it off. A team that moved it keeps its notes.
 */
export function workspaceChangelogPath(nxJson: NxJsonConfiguration | undefined, root: string): string | undefined {
  const setting = nxJson?.release?.changelog?.workspaceChangelog;
  if (setting === false) return undefined;
  const file = typeof setting === 'object' ? setting.file : undefined;
  if (file === false) return undefined;
  return join(root, (file ?? '{workspaceRoot}/CHANGELOG.md').replace(/^\{workspaceRoot\}\/?/, ''));
}

/** The changelog's text; empty when there is none (turned off, or not written yet). */
export async function workspaceChangelogText(path: string | undefined): Promise<string> {
  return path ? readFile(path, 'utf8').catch(() => '') : '';
}
