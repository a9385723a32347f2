import { sha256Hex } from '@changemaker/oci';

/**
 * Who started a draft: the same files from the same directory on the same machine. A re-run after
 * a crash has the same identity and may finish the draft; a second publisher elsewhere does not,
 * and must not touch it. The identity is written into the draft's notes as an HTML comment
 * (invisible once rendered) and dropped when the release is published.
 */
export function publisherIdentity(host: string, inputDir: string, checksums: string): string {
  return sha256Hex(`${host}\0${inputDir}\0${checksums}`).slice(0, 16);
}

export function stampFor(identity: string): string {
  return `<!-- publish-release draft ${identity} -->`;
}

export function isStampedBy(notes: string, identity: string): boolean {
  return notes.includes(stampFor(identity));
}
