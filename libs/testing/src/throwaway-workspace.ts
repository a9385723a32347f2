import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

/** A copy of this workspace in its own git repository, to commit, change and run nx in. */
export interface ThrowawayWorkspace {
  root: string;
  git(...args: string[]): Promise<string>;
  commitAll(message: string): Promise<string>;
  remove(): Promise<void>;
}

const committer = ['-c', 'user.name=Release Kit Tests', '-c', 'user.email=tests@example.invalid'];

/**
 * Copies the files git knows of (tracked, and new ones not ignored) and links node_modules, so
 * the copy behaves like a fresh clone with dependencies installed.
 */
export async function createThrowawayWorkspace(sourceRoot: string): Promise<ThrowawayWorkspace> {
  const root = await mkdtemp(join(tmpdir(), 'cm-workspace-'));
  const remove = () => rm(root, { recursive: true, force: true, maxRetries: 5 });
  try {
    return await fillWorkspace(sourceRoot, root, remove);
  } catch (error) {
    // A copy that failed half-way (git refusing a repository another user owns, an unreadable file) is removed, not left in the temp directory.
    await remove();
    throw error;
  }
}

async function fillWorkspace(sourceRoot: string, root: string, remove: () => Promise<void>): Promise<ThrowawayWorkspace> {
  const { stdout } = await execa('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: sourceRoot });
  const files = stdout.split('\0').filter(Boolean);
  for (const file of files) {
    await mkdir(dirname(join(root, file)), { recursive: true });
    await cp(join(sourceRoot, file), join(root, file), { preserveTimestamps: false, verbatimSymlinks: true }).catch(ignoreDeletedFile);
  }
  await symlink(join(sourceRoot, 'node_modules'), join(root, 'node_modules'));
  const git = async (...args: string[]) => (await execa('git', args, { cwd: root })).stdout.trim();
  await git('init', '-q', '-b', 'main');
  const commitAll = async (message: string) => {
    await git('add', '-A');
    await git(...committer, 'commit', '-q', '--allow-empty', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  await commitAll('initial');
  return { root, git, commitAll, remove };
}

/** git lists a tracked file that the working tree has since deleted: the copy leaves it out too. */
function ignoreDeletedFile(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}

/** Gives the workspace the origin a clone has: a bare repository at `origin`, made here, with HEAD pushed to its main. */
export async function addBareOrigin(workspace: ThrowawayWorkspace, origin: string): Promise<void> {
  await execa('git', ['init', '-q', '--bare', '-b', 'main', origin]);
  await workspace.git('remote', 'add', 'origin', origin);
  await workspace.git('push', '-q', 'origin', 'HEAD:refs/heads/main');
}
