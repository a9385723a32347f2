import type { LocalAsset } from './local-assets';

/** Everything a publish needs to know, resolved from options, env and files beforehand. */
export interface PublishRequest {
  tag: string;
  title: string;
  notes: string;
  /** Commit the tag is created from when Gitea does not have it yet. */
  target?: string;
  assets: LocalAsset[];
  /** Leave the release a draft at the end. */
  draft: boolean;
  prerelease: boolean;
  replace: boolean;
  /** See publisher-identity.ts. */
  publisherId: string;
}
