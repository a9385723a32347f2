import { valid } from 'semver';

/**
 * What `nx release …` was asked on its command line. Nx hands version actions neither the raw
 * specifier nor --yes or --skip-publish, so the version actions read them here, from the nx
 * process's own arguments (see version-file-actions.ts for why each needs them).
 */
export interface ReleaseCommandLine {
  /** `release` for the whole `nx release`, else its subcommand (`version`, `changelog`, `publish`, `plan`, `plan:check`); undefined when nx was not asked `release`. */
  command?: string;
  /** The specifier as typed (`nx release <specifier>`, `nx release version <specifier>`, or either with `--specifier <specifier>`). */
  specifier?: string;
  dryRun: boolean;
  yes: boolean;
  skipPublish: boolean;
  /** --projects or --groups (-p, -g) was given: Nx then runs the publish step without its tasks' dependencies. */
  filtered: boolean;
}

/** `nx release`'s subcommands and their aliases, as nx's release command object declares them. */
const subcommands: Record<string, string> = { version: 'version', v: 'version', changelog: 'changelog', c: 'changelog', publish: 'publish', p: 'publish', plan: 'plan', pl: 'plan', 'plan:check': 'plan:check' };

/** nx release's options that take a value (its command object's string and number options): their value is not a positional. */
const valueOptions = new Set([
  'groups', 'group', 'g', 'projects', 'p', 'printConfig', 'print-config', 'preid', 'otp', 'from', 'to', 'interactive', 'i',
  'resolve-version-plans', 'resolveVersionPlans', 'registry', 'tag', 'access', 'message', 'm', 'git-commit-message', 'gitCommitMessage',
  'git-commit-args', 'gitCommitArgs', 'git-tag-message', 'gitTagMessage', 'git-tag-args', 'gitTagArgs', 'git-push-args', 'gitPushArgs',
  'git-remote', 'gitRemote', 'specifier', 'dockerVersionScheme', 'docker-version-scheme', 'dockerVersion', 'docker-version', 'output-style', 'outputStyle',
]);

const flagNames = { dryRun: ['dry-run', 'dryRun', 'd'], yes: ['yes', 'y'], skipPublish: ['skip-publish', 'skipPublish'] } as const;

/** nx release's project and group filters, by every name its command object gives them. */
const filterNames = ['projects', 'p', 'groups', 'group', 'g'] as const;

/** `args` as process.argv.slice(2) of the nx process: `release 1.2.3 --dry-run`. */
export function releaseCommandLineOf(args: readonly string[]): ReleaseCommandLine {
  const positionals: string[] = [];
  const flags = new Map<string, boolean>();
  // Nx's yargs takes a positional by its name too: `nx release --specifier=2.0.0` is `nx release 2.0.0`.
  let namedSpecifier: string | undefined;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const [name = '', inline] = arg.replace(/^--?/, '').split(/=(.*)/s);
    const names = long ? [name] : [...name];
    for (const short of names) {
      const negated = long && short.startsWith('no-');
      flags.set(negated ? short.slice(3) : short, !negated && inline !== 'false');
    }
    const takesValue = valueOptions.has(names[names.length - 1] ?? '');
    const next = args[index + 1];
    if (long && name === 'specifier') namedSpecifier = inline ?? (next !== undefined && !next.startsWith('-') ? next : undefined);
    if (inline === undefined && next !== undefined && (takesValue ? !next.startsWith('-') : next === 'true' || next === 'false')) {
      if (next === 'false') flags.set(names[names.length - 1]!, false);
      index += 1;
    }
  }
  const flag = (names: readonly string[]) => names.some((name) => flags.get(name) === true);
  const base = { dryRun: flag(flagNames.dryRun), yes: flag(flagNames.yes), skipPublish: flag(flagNames.skipPublish), filtered: filterNames.some((name) => flags.has(name)) };
  if (positionals[0] !== 'release') return base;
  const subcommand = positionals[1] === undefined ? undefined : subcommands[positionals[1]];
  if (!subcommand) return { ...base, command: 'release', specifier: positionals[1] ?? namedSpecifier };
  return { ...base, command: subcommand, specifier: subcommand === 'version' ? (positionals[2] ?? namedSpecifier) : undefined };
}

/** The bumps nx release takes as a specifier (semver's release types). */
const bumps = new Set(['major', 'minor', 'patch', 'premajor', 'preminor', 'prepatch', 'prerelease']);

/**
 * Why nx release must not go on with `specifier`, or undefined when it may. A version with build
 * metadata (1.2.3+build.4) is refused: the release's images are tagged v<version>. Nx strips the "v" of
 * "v1.2.3", but drops a "v…" that is not v<semver> ("vmajor", "v2.0", "v2.0.0x") without a word
 * and takes the version from the commits instead; anything else ("1.0", "banana") it refuses itself,
 * but in its words and with a "Pass --verbose" line: refused here, in one line, alike.
 */
export function unusableSpecifier(specifier: string | undefined): string | undefined {
  if (specifier === undefined || bumps.has(specifier)) return undefined;
  const version = specifier.replace(/^v/, '');
  const [withoutBuild, build] = version.split(/\+(.*)/s);
  // Refused here: after the release commit and tag, every image task would refuse its v<version> tag.
  if (valid(version) && build !== undefined) {
    return `specifier "${specifier}" has build metadata (+${build}), which an image tag cannot carry ("+" is not allowed in one): give the version without it (${withoutBuild}).`;
  }
  if (valid(version)) return undefined;
  return `specifier "${specifier}" is not a version or major/minor/patch: give a version (2.0.0 or v2.0.0) or one of major, minor, patch, premajor, preminor, prepatch, prerelease.`;
}

/**
 * Whether nx release walks its publish step itself in this run: a dry run does only with --yes;
 * `nx release version` and --skip-publish never publish.
 */
export function nxWalksPublishItself(commandLine: ReleaseCommandLine): boolean {
  return commandLine.command !== 'release' || commandLine.yes || commandLine.skipPublish;
}

/**
 * Why `nx release` without --yes must not start where nothing can answer the question Nx asks
 * before publishing (a CI job, a pipe): Nx takes the unanswered question as a no, and the release
 * would end with status 0, committed and tagged here, pushed and published nowhere.
 */
export function unansweredPublishQuestionProblem(commandLine: ReleaseCommandLine, stdinIsTerminal: boolean): string | undefined {
  if (commandLine.command !== 'release' || commandLine.yes || commandLine.skipPublish || commandLine.dryRun || stdinIsTerminal) return undefined;
  return 'nothing was written: nx release asks before publishing, and nothing can answer here (no terminal: a CI job or a pipe), so it would commit and tag the release and publish nothing: run nx release --yes, or nx release --skip-publish and then nx release publish';
}

/**
 * Why a whole `nx release` must not go on with --projects or --groups, or undefined. Nx runs a
 * filtered publish step without its tasks' dependencies, so the product's task would run without
 * the image tasks that push its images under the new version: the release would stop at its image
 * check, after the release commit and tag. Nothing is lost without them: the release group holds the
 * product alone, and its images are released with it.
 */
export function filteredPublishProblem(commandLine: ReleaseCommandLine): string | undefined {
  if (commandLine.command !== 'release' || commandLine.skipPublish || !commandLine.filtered) return undefined;
  return 'nothing was written: nx release --projects (or --groups) makes Nx run the publish step without the tasks it depends on, so no image would be pushed under the new version and the release would stop at its image check: run nx release without it; the product is released with its images either way';
}
