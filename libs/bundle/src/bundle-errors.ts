/** Every refusal names the file (or image) at fault and says what to do, in one line. */
export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class EntryPathTooLongError extends BundleError {
  constructor(
    readonly path: string,
    /** The workspace file at or below that tarball path, when one is. */
    readonly workspacePath?: string,
  ) {
    const shown = workspacePath === undefined ? `${path}: path` : `${workspacePath}: its tarball path ${path}`;
    super(`${shown} is too long for a ustar archive (at most 155 bytes before a slash and 100 after it); shorten the file or directory name, or rename it in the release's renames`);
  }
}

export class PathOutsideWorkspaceError extends BundleError {
  constructor(readonly path: string) {
    super(`${path}: lies outside the workspace; list only files inside it`);
  }
}

export class ControlCharacterPathError extends BundleError {
  constructor(readonly path: string) {
    // Quoted as JSON, so the message stays one line and shows the character instead of acting on the terminal.
    super(`${JSON.stringify(path)}: has a control character (a newline, tab or escape) in its name, which a release cannot list plainly; rename it`);
  }
}

export class SymlinkRefusedError extends BundleError {
  constructor(readonly path: string) {
    super(`${path}: is a symlink; release tarballs hold regular files only, replace it with the file it points to`);
  }
}

export class SourceNotFoundError extends BundleError {
  constructor(readonly path: string) {
    super(`${path}: listed in the release file list but matches no file; fix the list or add the file`);
  }
}

export class SecretRefusedError extends BundleError {
  constructor(readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}; remove it from the release file list`);
  }
}

export class ImageRefusedError extends BundleError {
  constructor(readonly composeFile: string, readonly image: string, reason: string) {
    super(`${composeFile}: image ${image} ${reason}`);
  }
}

export class InvalidReleaseTagError extends BundleError {
  constructor(readonly tag: string) {
    super(`tag "${tag}" is not a release tag; use v<semver>, e.g. --tag v1.2.3`);
  }
}

export class ComposeFileError extends BundleError {}

/** The release's own install.sh (and so upgrade.sh) would look for it under another name than it is packaged by. */
export class InstallerNameMismatchError extends BundleError {
  constructor(readonly installScript: string, readonly bundleName: string, readonly bundleRoot: string) {
    super(
      `${installScript} downloads and unpacks ${bundleName}-<tag>.tar.gz (bundle_name=${bundleName}), but the release is packaged as ${bundleRoot}-<tag>.tar.gz (bundleRoot): no server could find it; set bundle_name in ${installScript} and bundleRoot in the package target's options to the same name`,
    );
  }
}

/** GITEA_REGISTRY, GITEA_URL or GITEA_REPO, which a release's servers default to, names no registry or Gitea repository. */
export class InstallDefaultError extends BundleError {}

export class DuplicateBundlePathError extends BundleError {
  constructor(readonly path: string) {
    super(`${path}: two release sources map to this path; change the renames`);
  }
}

export class UnsafeBundlePathError extends BundleError {
  constructor(readonly path: string) {
    super(`${path}: is not a plain relative path inside the tarball (no "..", ".", empty or absolute parts); fix the renames or emptyDirectories`);
  }
}

export class SourceDateError extends BundleError {}

/** Source files that are not the commit's as they are: one line per kind of problem. */
export class UncommittedSourcesError extends BundleError {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

export class MirrorManifestError extends BundleError {}

export class ImageDigestMissingError extends BundleError {
  constructor(readonly service: string, readonly reference: string) {
    super(`${service}: no digest was found for ${reference} in the registry check; check the images again before packaging`);
  }
}

export class ReleaseSigningError extends BundleError {}

/** The output directory could not take the release files; none of them replaced what was there. */
export class ReleaseWriteError extends BundleError {
  constructor(readonly outputDir: string, reason: string) {
    super(`${outputDir}: the release files could not be written there (${reason}); fix it or choose another --output-dir`);
  }
}
