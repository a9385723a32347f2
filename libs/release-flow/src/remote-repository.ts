import type { GiteaLocation } from '@changemaker/release-contract';
import { gitAnswer } from './git-command';
import { withoutUrlCredentials } from './git-remote';

/**
 * Why `remote` cannot be the Gitea repository the release is published in, or undefined. The release
 * commit and tag are pushed to it, and Gitea publishes the draft when the tag arrives (or makes the
 * tag from the commit): pushed to another host (an origin on GitHub whose Gitea mirror has not synced),
 * Gitea never gets the tag, publishing fails, and the tag is public where nobody installs from.
 * Told from the remote's push URL before anything is written; a path on this machine cannot be told.
 */
export async function remoteRepositoryProblem(root: string, remote: string, gitea: GiteaLocation): Promise<string | undefined> {
  const pushUrl = await gitAnswer(root, ['remote', 'get-url', '--push', remote]);
  if (!pushUrl.ok || remoteNamesRepository(pushUrl.stdout, gitea) !== false) return undefined;
  return (
    `git remote ${remote} pushes to ${withoutUrlCredentials(pushUrl.stdout)}, not to ${gitea.url}/${gitea.repo}, where the release is published and made public when its tag arrives: ` +
    `point ${remote} at that repository (git remote set-url --push ${remote} ${gitea.url}/${gitea.repo}.git), or set GITEA_URL and GITEA_REPO to the Gitea ${remote} is`
  );
}

/**
 * Whether a git URL names `gitea`'s repository: an http(s) one by its host, path and name, as Gitea
 * serves it under GITEA_URL; an ssh one by owner/name alone, since Gitea's SSH_DOMAIN may be another
 * host than its web one. Undefined for a path or file:// URL, which could be any repository.
 * Gitea's owner and repository names are case-insensitive, as are host names.
 */
export function remoteNamesRepository(url: string, gitea: GiteaLocation): boolean | undefined {
  const repository = `/${gitea.repo}`.toLowerCase();
  const web = /^https?:\/\//i.test(url) ? parsedUrl(url) : undefined;
  if (web) {
    const giteaWeb = parsedUrl(gitea.url);
    return giteaWeb !== undefined && web.host === giteaWeb.host && repositoryPath(web.pathname) === `${repositoryPath(giteaWeb.pathname)}${repository}`;
  }
  const ssh = /^ssh:\/\//i.test(url) ? parsedUrl(url)?.pathname : /^(?:[^@/:]+@)?[^/:]+:(?!\/\/)(.+)$/.exec(url)?.[1];
  return ssh === undefined ? undefined : repositoryPath(`/${ssh.replace(/^\/+/, '')}`) === repository;
}

function parsedUrl(url: string): { host: string; pathname: string } | undefined {
  try {
    const parsed = new URL(url);
    return { host: parsed.host.toLowerCase(), pathname: decodeURIComponent(parsed.pathname) };
  } catch {
    return undefined;
  }
}

/** A repository's path as git URLs vary it: trailing slashes and `.git` dropped, case folded. */
function repositoryPath(path: string): string {
  return path.replace(/\/+$/, '').replace(/\.git$/i, '').toLowerCase();
}
