import { spawnSync } from 'node:child_process';
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { signalExitCode, stopSignals } from '@changemaker/oci';
import { giteaLocationFrom, releaseTagOf, versionFileContent, versionFileName, versionInFile } from '@changemaker/release-contract';
import {
  breakingChangesUnreadByNx,
  checkoutProblem,
  lastReleaseTag,
  newVersionProblem,
  packagingProblem,
  preflightRefusal,
  readReleaseStart,
  readUnfinishedRelease,
  releasePreflight,
  releaseServicesProblems,
  unfinishedReleaseLine,
  unreadBreakingChangeProblem,
  type ReleaseStart,
} from '@changemaker/release-flow';
import { readNxJson, workspaceRoot, type ProjectConfiguration, type ProjectGraph, type Tree } from '@nx/devkit';
import { VersionActions, type AfterAllProjectsVersioned } from 'nx/release';
import { filteredPublishProblem, nxWalksPublishItself, releaseCommandLineOf, unansweredPublishQuestionProblem, unusableSpecifier, type ReleaseCommandLine } from './release-command-line';
import { plannedVersionVariable } from './release-version';
import { sayWhyARealReleaseWouldStop } from './stop-notices';
import { gitRemoteOf } from './release-remote';
import { notReleasableProblem, productRegistryOptionOf } from './product-release-target';
import { nxReleaseSettingsProblem } from './nx-release-settings';
import { pluginOptionsProblemIn } from '../plugins/plugin-options';
import { packagingOptionsOf, releaseRequestOf } from '../executors/package-release/release-request';
import { imageRegistryProblem, type WorkspaceProjects } from './workspace-images';

/**
 * `nx release` version actions for a product versioned by a VERSION file (docker/VERSION) rather
 * than a package.json: nx release reads the current version from it when no release tag exists yet
 * and writes the new one into it; the release commit carries it, the tarball ships it.
 */
export default class VersionFileActions extends VersionActions {
  validManifestFilenames = [versionFileName];

  /**
   * Nx calls this before it decides any version or writes any file: the command line and the
   * settings are checked here, so that a refused release leaves nothing behind.
   *
   * The specifier is read from the command line because nothing Nx hands us carries it: its
   * ReleaseGroupProcessor drops a "v…" specifier that is not v<semver> before our code runs, and
   * then calls calculateNewVersion with the conventional-commits bump (or not at all when the
   * commits give none), exactly as when no specifier was given. The plugin's createNodes never sees
   * the release's arguments either. (Nx's programmatic releaseVersion({ specifier }) is not covered:
   * its caller holds the specifier and can check it with unusableSpecifier.)
   */
  override async validate(tree: Tree): Promise<void> {
    await super.validate(tree);
    const nxJson = readNxJson(tree) ?? undefined;
    const settingsProblem =
      nxReleaseSettingsProblem(nxJson?.release, this.releaseGroup.releaseTag.pattern) ?? pluginOptionsProblemIn(nxJson) ?? notReleasableProblem(this.projectGraphNode.name, this.projectGraphNode.data);
    if (settingsProblem) throw new ReleaseRefusedError(`nothing was written: ${settingsProblem}`);
    checked ??= checkBeforeVersioning(releaseCommandLineOf(process.argv.slice(2)), this.projectGraphNode.name, this.projectGraphNode.data);
    await checked;
  }

  async readCurrentVersionFromSourceManifest(tree: Tree): Promise<{ currentVersion: string; manifestPath: string } | null> {
    const manifestPath = this.versionFilePath();
    const text = tree.read(manifestPath, 'utf-8');
    if (text === null) return null;
    const currentVersion = versionInFile(text);
    if (!currentVersion) {
      throw new ReleaseRefusedError(`${manifestPath} holds "${text.trim()}", not a version: write the last released tag there (v0.0.0 before the first release).`);
    }
    return { currentVersion, manifestPath };
  }

  /**
   * Nx's version for the release, refused before anything is written when it is not above the last
   * release or its tag exists already (here outside the branch, or on the remote): see newVersionProblem;
   * or when the commits gave it while one of them marks a breaking change Nx did not read.
   */
  override async calculateNewVersion(...args: Parameters<VersionActions['calculateNewVersion']>): ReturnType<VersionActions['calculateNewVersion']> {
    const decided = await super.calculateNewVersion(...args);
    const [current, bump, reason] = args;
    if (reason === 'CONVENTIONAL_COMMITS' && !isMajorOrPrerelease(current, bump)) {
      const unread = unreadBreakingChangeProblem(await breakingChangesUnreadByNx(workspaceRoot, current ? releaseTagOf(current) : undefined), decided.newVersion);
      if (unread) throw new ReleaseRefusedError(`nothing was written: ${unread}`);
    }
    const problem = await newVersionProblem({
      root: workspaceRoot,
      remote: gitRemoteOf(this.projectGraphNode.data),
      current: args[0],
      next: decided.newVersion,
      tag: releaseTagOf(decided.newVersion),
      dryRun: releaseCommandLineOf(process.argv.slice(2)).dryRun,
    });
    if (problem) throw new ReleaseRefusedError(`nothing was written: ${problem}`);
    const packaging = await this.packagingProblemOf(releaseTagOf(decided.newVersion));
    if (packaging) throw new ReleaseRefusedError(`nothing was written: packaging ${releaseTagOf(decided.newVersion)} would refuse it: ${packaging}`);
    const registries = this.workspaceGraph && imageRegistryProblem(workspaceProjectsOfGraph(this.workspaceGraph), productRegistryOptionOf(this.projectGraphNode.data), process.env);
    if (registries) throw new ReleaseRefusedError(`nothing was written: ${registries}`);
    return decided;
  }

  /**
   * The publish step packages the release only after every image is tagged with its version: what
   * packaging would refuse is asked here, of the same files (the checkout was found clean), while
   * nothing is written yet. The projects come from the graph this nx release computed.
   */
  private async packagingProblemOf(tag: string): Promise<string | undefined> {
    const packaging = packagingOptionsOf(this.projectGraphNode.data);
    if (!packaging || !this.workspaceGraph) return undefined;
    return packagingProblem(releaseRequestOf(packaging, workspaceProjectsOfGraph(this.workspaceGraph), this.projectGraphNode.name, tag));
  }

  /** The workspace's project graph as this nx release computed it: Nx hands it to version actions here, before any version is decided. */
  private workspaceGraph: ProjectGraph | undefined;

  override async readDependencies(tree: Tree, projectGraph: ProjectGraph): ReturnType<VersionActions['readDependencies']> {
    this.workspaceGraph = projectGraph;
    return super.readDependencies(tree, projectGraph);
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

function workspaceProjectsOfGraph(graph: ProjectGraph): WorkspaceProjects {
  return { root: workspaceRoot, projects: Object.fromEntries(Object.entries(graph.nodes).map(([name, node]) => [name, node.data])) };
}

/** What this nx release run decided: a dry run plans its publish step with it. */
const decidedVersions: string[] = [];

/** Once per nx process, however many projects the release group versions. */
let checked: Promise<void> | undefined;

async function checkBeforeVersioning(commandLine: ReleaseCommandLine, productName: string, product: ProjectConfiguration): Promise<void> {
  const productRoot = product.root;
  const gitRemote = gitRemoteOf(product);
  const registryOption = productRegistryOptionOf(product);
  const commandLineProblem = unusableSpecifier(commandLine.specifier) ?? filteredPublishProblem(commandLine) ?? unansweredPublishQuestionProblem(commandLine, process.stdin.isTTY === true);
  if (commandLineProblem) throw new ReleaseRefusedError(commandLineProblem);
  const preflight = await releasePreflight({
    env: process.env,
    dryRun: commandLine.dryRun,
    publishes: commandLine.command === 'release' && !commandLine.skipPublish,
    product: { name: productName, root: productRoot, path: join(workspaceRoot, productRoot) },
    registryOption,
  });
  const refusal = preflightRefusal(preflight);
  if (refusal) throw new ReleaseRefusedError(refusal);
  // Before the checks that ask git's remote, Gitea and the registry: a Ctrl-C while they wait gets its line too.
  if (commandLine.command === 'release' && !commandLine.dryRun) {
    const start = releaseStartOf(workspaceRoot, gitRemote);
    if (start) sayWhatAStopLeaves(start, productName);
  }
  const checkout = commandLine.command === 'release' || commandLine.command === 'version' ? await checkoutProblem({ root: workspaceRoot, remote: gitRemote, gitea: giteaLocationFrom(process.env), product: productName, dryRun: commandLine.dryRun }) : { notices: [] };
  if (checkout.problem) throw new ReleaseRefusedError(`nothing was written: ${checkout.problem}`);
  if (commandLine.command === 'release' && !commandLine.dryRun && !commandLine.skipPublish) {
    const unusable = preflightRefusal({ problems: await releaseServicesProblems(process.env, { registryOption }), notices: [] });
    if (unusable) throw new ReleaseRefusedError(unusable);
  }
  sayWhyARealReleaseWouldStop([...preflight.notices, ...checkout.notices], process.env);
}

/** Undefined outside a git checkout with a commit, which checkoutProblem then refuses in its words. */
function releaseStartOf(root: string, gitRemote: string): ReleaseStart | undefined {
  try {
    return readReleaseStart(root, gitRemote);
  } catch {
    return undefined;
  }
}

/** Nx prints an error's message as its own; without a stack it adds no "Pass --verbose" line. */
class ReleaseRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
    this.stack = undefined;
  }
}

/**
 * nx release walks its publish step in a dry run only when --yes says it would publish. Without it,
 * a dry run would end after the changelog and say nothing of images, tarball or Gitea: the same
 * dry run of `nx release publish` is walked here instead, for the version just decided.
 */
export const afterAllProjectsVersioned: AfterAllProjectsVersioned = async (cwd, { dryRun }) => {
  const [version] = decidedVersions;
  const commandLine = releaseCommandLineOf(process.argv.slice(2));
  // Nx ends such a run with status 0 after "Skipped publishing packages.": a release job would pass
  // having released nothing (or, asked to, republished nothing new), its reason one line among many.
  if (!version && commandLine.command === 'release') throw new ReleaseRefusedError(await whyNothingToRelease(commandLine));
  if (dryRun && version && !nxWalksPublishItself(commandLine)) {
    console.log(`\nThe publish step nx release would run for ${version} (nx walks it in a dry run only with --yes):\n`);
    const walk = spawnSync(process.execPath, [process.argv[1] ?? 'nx', 'release', 'publish', '--dry-run'], {
      cwd,
      stdio: 'inherit',
      env: { ...process.env, [plannedVersionVariable]: version },
    });
    // The plan failing is the dry run's answer: nx release --dry-run --yes fails the same way.
    if (walk.status !== 0) {
      throw new ReleaseRefusedError(`the publish plan for ${version} failed (${walk.error?.message ?? (walk.signal ? `signal ${walk.signal}` : `exit code ${walk.status}`)}): see its output above; a real release would stop there too.`);
    }
  }
  return { changedFiles: [], deletedFiles: [] };
};

/** A bump Nx gave that a breaking change would not have changed: a major, or the next of a pre-release series. */
function isMajorOrPrerelease(current: string | null, bump: string): boolean {
  return bump === 'major' || bump.startsWith('pre') || (current ?? '').includes('-');
}

/**
 * Why nx decided no version, with no specifier or one it could not apply: a commit marking a breaking
 * change Nx did not read, no release yet (a first release is given its version), or no commit since
 * the last release that gives one.
 */
async function whyNothingToRelease(commandLine: ReleaseCommandLine): Promise<string> {
  const lastRelease = (await lastReleaseTag(workspaceRoot))?.tag;
  if (!commandLine.specifier) {
    const unread = unreadBreakingChangeProblem(await breakingChangesUnreadByNx(workspaceRoot, lastRelease), undefined);
    if (unread) return `nothing to release as nx read the commits: ${unread}`;
  }
  if (!lastRelease) {
    return 'nothing to release: there is no release yet (no release tag in HEAD\'s history) and no commit that touches the product is a fix:, a feat: or a breaking change; give the first release its version: npx nx release 1.0.0';
  }
  return `nothing to release: no commit since ${lastRelease} that touches the product is a fix:, a feat: or a breaking change, so the commits give no version; to release anyway, give one: npx nx release patch (or minor, major, a version)`;
}

/**
 * A real nx release that stops before its release is public and finished ends with one line saying
 * what it left and how to go on (README, "All or nothing, and what a failure leaves"), whether it
 * failed or was stopped by Ctrl-C (SIGINT to the process group), CI cancelling the job (SIGTERM) or a
 * hang-up; a stopped one exits with 128 + the signal's number, as the product's scripts do.
 *
 * Until the publish step, nothing of Nx's handles a signal: the handler here says what is left and
 * ends the process by that signal. During the publish step Nx's task runner has its own handler,
 * which stops the tasks, silences stdout and stderr (for SIGINT) and exits: the line is then written
 * by the exit listener, straight to file descriptor 2, which that silencing does not reach. Only an
 * exit listener runs after Nx's own failure report.
 */
function sayWhatAStopLeaves(start: ReleaseStart, product: string): void {
  let stoppedBy: NodeJS.Signals | undefined;
  let said = false;
  const say = () => {
    if (said) return;
    said = true;
    const [version] = decidedVersions;
    const tag = version ? releaseTagOf(version) : undefined;
    try {
      const state = tag ? readUnfinishedRelease(start, tag) : ({ kind: 'untouched' } as const);
      // Whatever stopped a release that wrote something is reported (git refusing the commit or the
      // tag, as a hook or tag.gpgSign without a key does, leaves files or a commit Nx says nothing of);
      // one that wrote nothing only when a signal stopped it: Nx explains its own refusals.
      if (state.kind === 'untouched' && !stoppedBy) return;
      writeSync(2, `${unfinishedReleaseLine(tag, state, product, stoppedBy)}\n`);
    } catch {
      // git itself failed (no repository any more), or stderr is gone (the terminal closed): the exit status still tells.
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy ??= signal;
    // Nx's task runner is stopping the publish step: it exits, and the exit listener reports.
    if (process.listenerCount(signal) > 1) return;
    say();
    for (const name of stopSignals) process.removeListener(name, onSignal);
    process.kill(process.pid, signal);
  };
  for (const name of stopSignals) process.on(name, onSignal);
  process.once('exit', (code) => {
    if (code === 0 && !stoppedBy) return;
    say();
    if (stoppedBy) process.exitCode = signalExitCode(stoppedBy);
  });
}
