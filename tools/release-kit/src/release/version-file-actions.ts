import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { versionFileContent, versionFileName, versionInFile } from '@changemaker/release-contract';
import type { ProjectGraph, Tree } from '@nx/devkit';
import { VersionActions, type AfterAllProjectsVersioned } from 'nx/release';
import { plannedVersionVariable } from './release-version';

/**
 * `nx release` version actions for a product versioned by a VERSION file (docker/VERSION) rather
 * than a package.json: nx release reads the current version from it when no release tag exists yet
 * and writes the new one into it; the release commit carries it, the tarball ships it.
 */
export default class VersionFileActions extends VersionActions {
  validManifestFilenames = [versionFileName];

  async readCurrentVersionFromSourceManifest(tree: Tree): Promise<{ currentVersion: string; manifestPath: string } | null> {
    const manifestPath = this.versionFilePath();
    const text = tree.read(manifestPath, 'utf-8');
    if (text === null) return null;
    const currentVersion = versionInFile(text);
    if (!currentVersion) {
      throw new Error(`${manifestPath} holds "${text.trim()}", not a version: write the last released tag there (v0.0.0 before the first release).`);
    }
    return { currentVersion, manifestPath };
  }

  /** Versions live in git tags and the VERSION file; the registry holds images, not versions. */
  async readCurrentVersionFromRegistry(): Promise<null> {
    return null;
  }

  /** The product's version does not depend on other projects' versions: its images are released with it. */
  async readCurrentVersionOfDependency(): Promise<{ currentVersion: null; dependencyCollection: null }> {
    return { currentVersion: null, dependencyCollection: null };
  }

  async updateProjectVersion(tree: Tree, newVersion: string): Promise<string[]> {
    const path = this.versionFilePath();
    tree.write(path, versionFileContent(newVersion));
    decidedVersions.push(newVersion);
    return [`✍️  New version ${newVersion} written to ${path}`];
  }

  async updateProjectDependencies(_tree: Tree, _projectGraph: ProjectGraph, _dependencies: Record<string, string>): Promise<string[]> {
    return [];
  }

  private versionFilePath(): string {
    return join(this.projectGraphNode.data.root, versionFileName);
  }
}

/** What this nx release run decided: a dry run plans its publish step with it. */
const decidedVersions: string[] = [];

/**
 * nx release walks its publish step in a dry run only when --yes says it would publish. Without it,
 * a dry run would end after the changelog and say nothing of images, tarball or Gitea: the same
 * dry run of `nx release publish` is walked here instead, for the version just decided.
 */
export const afterAllProjectsVersioned: AfterAllProjectsVersioned = async (cwd, { dryRun }) => {
  const [version] = decidedVersions;
  if (dryRun && version && !nxWalksPublishItself(process.argv.slice(2))) {
    console.log(`\nThe publish step nx release would run for ${version} (nx walks it in a dry run only with --yes):\n`);
    spawnSync(process.execPath, [process.argv[1] ?? 'nx', 'release', 'publish', '--dry-run'], {
      cwd,
      stdio: 'inherit',
      env: { ...process.env, [plannedVersionVariable]: version },
    });
  }
  return { changedFiles: [], deletedFiles: [] };
};

/** `nx release --dry-run --yes` walks publish itself; `nx release version` and --skip-publish never publish. */
function nxWalksPublishItself(args: readonly string[]): boolean {
  const command = args.filter((arg) => !arg.startsWith('-'));
  return args.some((arg) => ['--yes', '-y', '--skip-publish'].includes(arg)) || command[0] !== 'release' || (command[1] !== undefined && !/^\d|^(major|minor|patch|premajor|preminor|prepatch|prerelease)$/.test(command[1]));
}
