import { join } from 'node:path';
import { versionFileContent, versionFileName, versionInFile } from '@changemaker/release-contract';
import type { ProjectGraph, Tree } from '@nx/devkit';
import { VersionActions, type AfterAllProjectsVersioned } from 'nx/release';

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
    return [`✍️  New version ${newVersion} written to ${path}`];
  }

  async updateProjectDependencies(_tree: Tree, _projectGraph: ProjectGraph, _dependencies: Record<string, string>): Promise<string[]> {
    return [];
  }

  private versionFilePath(): string {
    return join(this.projectGraphNode.data.root, versionFileName);
  }
}

/**
 * nx release walks its publish step in a dry run only when --yes says it would publish; without it,
 * a dry run would end after the changelog and say nothing of images, tarball or Gitea.
 */
export const afterAllProjectsVersioned: AfterAllProjectsVersioned = async (_cwd, { dryRun }) => {
  const argv = process.argv.slice(2);
  const publishes = argv.some((arg) => ['--yes', '-y', '--skip-publish'].includes(arg)) || !argv.includes('release') || argv.includes('version');
  if (dryRun && !publishes) {
    console.log('\nThis dry run stops after the version and the changelog. For the whole plan (each image built or tagged registry-side, the third-party images, the tarball, the Gitea calls), run: npx nx release --dry-run --yes\n');
  }
  return { changedFiles: [], deletedFiles: [] };
};
