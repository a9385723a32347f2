import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { SymlinkRefusedError } from './bundle-errors';
import { sourceSelector } from './collect-sources';
import { runGit } from './git-command';
import type { ReleaseFileList } from './release-file-list';
import type { SourceFile } from './source-file';

export interface CommittedSources {
  /** The sources, each with its mode as the commit records it. */
  sources: SourceFile[];
  /** One line per kind of problem (not committed, ignored, edited, deleted), naming the first few files; none: the checkout is the commit. */
  problems: string[];
}

/**
 * Checks the files collected from the checkout against the commit being released, byte for byte,
 * and takes each file's mode from the commit (100755: executable; anything else is not), never
 * from the checkout: core.fileMode=false or a checkout under another umask changes the disk's
 * modes but not the commit's.
 *
 * Why compare the checkout's bytes with the commit's blobs rather than read the content from git
 * (`git cat-file --batch` of the tree's entries): the file list keeps one meaning, the files of the
 * checkout as collectSources walks, refuses and reports them, in a real run and in a dry run alike;
 * a real run then refuses unless every shipped byte is the commit's (its blob id is recomputed
 * here), so the tarball is the commit's content by proof, not by a second reader. The comparison
 * is stricter than `git status`, which applies the checkout's filters: a clone that converts line
 * endings (core.autocrlf=true) or runs a smudge filter is "clean" to git yet would ship other
 * bytes; here it is refused, naming the files. The workspace's .gitattributes (`* text=auto eol=lf`)
 * keeps such clones from converting in the first place, so they package as any other.
 */
export async function checkSourcesCommitted(workspaceRoot: string, commit: string, fileList: ReleaseFileList, sources: readonly SourceFile[]): Promise<CommittedSources> {
  const root = await realpath(workspaceRoot);
  const tree = await committedFiles(root, commit);
  const notInCommit: string[] = [];
  const edited: string[] = [];
  const checked = sources.map((source): SourceFile => {
    const entry = tree.get(source.workspacePath);
    if (entry === undefined || entry.type !== 'blob') {
      notInCommit.push(source.workspacePath);
      return source;
    }
    // Committed as a symlink, checked out as a file holding its target (core.symlinks=false).
    if (entry.mode === '120000') throw new SymlinkRefusedError(source.workspacePath);
    if (blobId(source.content, entry.oid.length) !== entry.oid) edited.push(source.workspacePath);
    return { ...source, executable: entry.mode === '100755' };
  });
  const ignored = await ignoredOf(root, notInCommit);
  const selected = await sourceSelector(root, fileList);
  const shipped = new Set(sources.map((source) => source.workspacePath));
  const deleted = [...tree.entries()].filter(([path, entry]) => entry.type === 'blob' && selected(path) && !shipped.has(path)).map(([path]) => path);
  const at = commit.slice(0, 12);
  const problems: string[] = [];
  const untracked = notInCommit.filter((path) => !ignored.has(path));
  if (untracked.length > 0) {
    problems.push(`${named(untracked)}: not committed at ${at} (HEAD); commit ${them(untracked)}, remove ${them(untracked)}, or exclude ${them(untracked)} from the release's sources`);
  }
  const ignoredPaths = notInCommit.filter((path) => ignored.has(path));
  if (ignoredPaths.length > 0) {
    problems.push(`${named(ignoredPaths)}: ignored by git, so not committed at ${at} (HEAD); remove ${them(ignoredPaths)}, or exclude ${them(ignoredPaths)} from the release's sources`);
  }
  if (edited.length > 0) {
    problems.push(
      `${named(edited)}: ${edited.length === 1 ? 'differs' : 'differ'} from ${at} (HEAD), an uncommitted change or a checkout that converts line endings; commit or undo the change (git status, git diff)`,
    );
  }
  if (deleted.length > 0) {
    problems.push(`${named(deleted)}: committed at ${at} (HEAD) but missing from the checkout; restore ${them(deleted)} (git checkout -- <path>) or commit the deletion`);
  }
  return { sources: checked, problems };
}

interface TreeEntry {
  mode: string;
  type: string;
  oid: string;
}

/** The commit's entries below the workspace root, by workspace-relative path (`git ls-tree` lists relative to its cwd). */
async function committedFiles(root: string, commit: string): Promise<Map<string, TreeEntry>> {
  const output = (await runGit(root, ['ls-tree', '-r', '-z', commit])).toString('utf8');
  const entries = new Map<string, TreeEntry>();
  for (const record of output.split('\0')) {
    const tab = record.indexOf('\t');
    if (tab === -1) continue;
    const [mode, type, oid] = record.slice(0, tab).split(' ');
    entries.set(record.slice(tab + 1), { mode, type, oid });
  }
  return entries;
}

async function ignoredOf(root: string, paths: readonly string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const output = await runGit(root, ['check-ignore', '-z', '--stdin'], { input: paths.map((path) => `${path}\0`).join(''), exitCodes: [0, 1] });
  return new Set(output.toString('utf8').split('\0').filter(Boolean));
}

/** git's object id of a file with this content: sha1 or, in a sha256 repository, sha256 of `blob <size>\0<content>`. */
function blobId(content: Buffer, idLength: number): string {
  return createHash(idLength === 64 ? 'sha256' : 'sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

const namedAtMost = 3;

function named(paths: readonly string[]): string {
  const sorted = [...paths].sort();
  const shown = sorted.slice(0, namedAtMost).join(', ');
  return sorted.length > namedAtMost ? `${shown} and ${sorted.length - namedAtMost} more` : shown;
}

function them(paths: readonly string[]): string {
  return paths.length === 1 ? 'it' : 'them';
}
