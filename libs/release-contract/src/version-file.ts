import { valid } from 'semver';
import { releaseTagOf } from './image-naming';

/**
 * The VERSION file: the release tag on one line (`v1.2.3`). The workspace keeps one beside the
 * product (docker/VERSION, written by `nx release`), and every tarball ships one at its top,
 * by which install.sh and upgrade.sh recognise a release install and its version.
 */
export function versionFileContent(version: string): string {
  return `${releaseTagOf(version)}\n`;
}

/**
 * The version a VERSION file holds (`v1.2.3` and `1.2.3` both read as 1.2.3; a BOM, CRLF or no
 * final newline, as an editor leaves them, change nothing), or undefined when it holds none: a
 * semver version only (`v1.02.3` is none, which nx would refuse later, in its words).
 */
export function versionInFile(text: string): string | undefined {
  const match = /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)\s*$/.exec(text.trim());
  return match && valid(match[1]) ? match[1] : undefined;
}
