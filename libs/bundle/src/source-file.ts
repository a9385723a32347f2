/** A workspace file picked by the release file list, before any content rules are applied. */
export interface SourceFile {
  /** Path as the user knows it: relative to the workspace root. */
  workspacePath: string;
  /** Path inside the tarball, below its top directory. */
  bundlePath: string;
  executable: boolean;
  content: Buffer;
}
