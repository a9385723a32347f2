/** Shapes of Gitea's release API, as `#/definitions` in gitea-releases-swagger.json names them. */

export interface Attachment {
  id: number;
  name: string;
  size: number;
  download_count?: number;
  created_at?: string;
  uuid?: string;
  browser_download_url: string;
}

export interface Release {
  id: number;
  tag_name: string;
  target_commitish?: string;
  name: string;
  body: string;
  url?: string;
  html_url: string;
  upload_url?: string;
  draft: boolean;
  prerelease: boolean;
  created_at?: string;
  published_at?: string;
  assets: Attachment[];
}

export interface CreateReleaseOption {
  tag_name: string;
  target_commitish?: string;
  name?: string;
  body?: string;
  draft?: boolean;
  prerelease?: boolean;
}

export type EditReleaseOption = Partial<CreateReleaseOption>;
