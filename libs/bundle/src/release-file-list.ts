/**
 * What a release ships, as the packaging target's options say it: data, not code, so a team
 * changes its tarball's contents in project.json.
 */
export interface ReleaseFileList {
  /** Directory, relative to the workspace root, that sources, renames and bundle paths are relative to. */
  sourceRoot: string;
  /** Top-level directory inside the tarball. */
  bundleRoot: string;
  /** Files or globs (`*`, `?`, `**`), relative to sourceRoot. */
  sources: string[];
  /** Source path -> path inside the tarball, both relative. */
  renames: Record<string, string>;
  /** Directories shipped empty, relative to the tarball's top directory. */
  emptyDirectories: string[];
}
