import { sha256Hex } from '@changemaker/oci';
import type { LocalAsset } from './local-assets';
import type { ReleaseClient } from './release-client';
import type { Attachment } from './release-types';

/** Why the server's copy differs from the local file, or undefined when it matches. */
export async function verifyAsset(client: ReleaseClient, remote: Attachment, local: LocalAsset): Promise<string | undefined> {
  if (remote.size !== local.size) return `Gitea holds ${remote.size} bytes, ${local.size} were sent`;
  const digest = sha256Hex(await client.downloadAsset(remote));
  if (digest !== local.sha256) return `sha256 ${digest} differs from the sent ${local.sha256}`;
  return undefined;
}
