import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

/** A checkout with a bare `origin` beside it, one release commit made, for the specs of what nx release does with git. */
export interface ReleaseRepository {
  /** The temporary directory holding both, where a spec may put another clone. */
  dir: string;
  /** The checkout. */
  work: string;
  /** The bare repository the checkout's `origin` names. */
  origin: string;
  /** git in `cwd` with a committer set; its stdout, trimmed. */
  git(cwd: string, ...args: string[]): Promise<string>;
  remove(): Promise<void>;
}

export interface ReleaseRepositoryOptions {
  /** Files of the first commit besides VERSION (v1.0.0), by path (directories are made). */
  files?: Record<string, string>;
  /** Whether the commit is tagged v1.0.0 (annotated, as nx release tags). */
  tagged?: boolean;
  /** What is pushed to origin: nothing, main, or main and the tag. */
  pushed?: 'nothing' | 'main' | 'main and tag';
}

export async function createReleaseRepository({ files = {}, tagged = false, pushed = 'nothing' }: ReleaseRepositoryOptions = {}): Promise<ReleaseRepository> {
  const dir = await mkdtemp(join(tmpdir(), 'cm-release-repo-'));
  const origin = join(dir, 'origin.git');
  const work = join(dir, 'work');
  const git = async (cwd: string, ...args: string[]) =>
    (await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd })).stdout.trim();
  await execa('git', ['init', '-q', '--bare', '-b', 'main', origin]);
  await execa('git', ['init', '-q', '-b', 'main', work]);
  for (const [name, text] of Object.entries({ VERSION: 'v1.0.0\n', ...files })) {
    await mkdir(dirname(join(work, name)), { recursive: true });
    await writeFile(join(work, name), text);
  }
  await git(work, 'add', '-A');
  await git(work, 'commit', '-qm', 'chore(release): v1.0.0');
  if (tagged) await git(work, 'tag', '-a', 'v1.0.0', '-m', 'v1.0.0');
  await git(work, 'remote', 'add', 'origin', origin);
  if (pushed !== 'nothing') await git(work, 'push', '-q', 'origin', 'main', ...(pushed === 'main and tag' ? ['v1.0.0'] : []));
  return { dir, work, origin, git, remove: () => rm(dir, { recursive: true, force: true }) };
}
