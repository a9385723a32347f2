/** One entry of a release tarball, already normalised: what the archive will say, nothing more. */
export type TarEntry =
  | { type: 'file'; path: string; mode: 0o755 | 0o644; content: Buffer }
  | { type: 'directory'; path: string; mode: 0o755 };
