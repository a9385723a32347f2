import { settingFrom } from './environment-setting';

/** Where the product's Gitea (or Forgejo) repository is: releases, commits, compare views. */
export interface GiteaLocation {
  /** e.g. https://gitea.example.org, without a trailing slash. */
  url: string;
  /** owner/name */
  repo: string;
}

export const defaultGiteaUrl = 'https://gitea.bnkops.com';
export const defaultGiteaRepo = 'admin/changemaker.lite';

/** $GITEA_URL and $GITEA_REPO, else the product's defaults; set but empty is a SettingError. */
export function giteaLocationFrom(env: NodeJS.ProcessEnv): GiteaLocation {
  return { url: settingFrom(env, 'GITEA_URL', defaultGiteaUrl).replace(/\/+$/, ''), repo: settingFrom(env, 'GITEA_REPO', defaultGiteaRepo) };
}

/** $GITEA_REGISTRY_API_TOKEN: the token for Gitea's API (releases), when one is set. */
export function giteaTokenFrom(env: NodeJS.ProcessEnv): string | undefined {
  return env['GITEA_REGISTRY_API_TOKEN'] || undefined;
}

export function commitUrl(location: GiteaLocation, sha: string): string {
  return `${location.url}/${location.repo}/commit/${sha}`;
}

export function compareUrl(location: GiteaLocation, fromTag: string, toTag: string): string {
  return `${location.url}/${location.repo}/compare/${fromTag}...${toTag}`;
}
