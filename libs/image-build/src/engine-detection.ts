import { BuildahFamilyEngine } from './buildah-family-engine';
import { commandSucceeds, lastMeaningfulLine, type CommandRunner } from './command-runner';
import { engineNames, type ContainerEngine, type EngineName } from './container-engine';
import { DockerEngine } from './docker-engine';
import { validateEngineChoice } from './engine-choice';
import { EngineNotInstalledError, NoEngineInstalledError } from './errors';

/**
 * docker first (when its daemon answers: a docker client alone cannot build), then podman, then
 * buildah. A chosen engine that is not usable is an error, never a silent fallback.
 */
export async function selectEngine(choice: string, runner: CommandRunner): Promise<ContainerEngine> {
  if (choice === 'auto') {
    for (const name of engineNames) {
      if ((await whyUnusable(name, runner)) !== undefined) continue;
      const engine = await createEngine(name, runner);
      // Passes over a docker that cannot build at all (23 or later without buildx) to an engine that can.
      if (!(engine instanceof DockerEngine) || engine.hasBuildKit) return engine;
    }
    throw new NoEngineInstalledError(engineNames);
  }
  validateEngineChoice(choice);
  const name = choice as EngineName;
  const reason = await whyUnusable(name, runner);
  if (reason !== undefined) throw new EngineNotInstalledError(name, reason);
  // A chosen docker without BuildKit is refused at its build, saying to install buildx.
  return createEngine(name, runner);
}

/**
 * How long an engine may take to answer whether it is usable: a docker daemon that accepts the
 * connection and never answers (hung, or a dead remote behind a proxy) would hold `docker version`,
 * and the task, for ever. A daemon at work answers it within a second.
 */
const engineProbeTimeoutMs = 10_000;

/**
 * What the engine said when asked whether it answers; undefined when it does. docker must reach its
 * daemon: `docker version` says why it cannot (not running, no permission on the socket), where
 * docker 20.10's `docker info --format` only reports a template error.
 */
async function whyUnusable(name: EngineName, runner: CommandRunner): Promise<string | undefined> {
  const args = name === 'docker' ? ['version', '--format', '{{.Server.Version}}'] : ['--version'];
  try {
    const result = await runner.run(name, args, { timeoutMs: engineProbeTimeoutMs });
    return result.exitCode === 0 ? undefined : lastMeaningfulLine(result);
  } catch (error) {
    return (error as Error).message;
  }
}

async function createEngine(name: EngineName, runner: CommandRunner): Promise<ContainerEngine> {
  if (name !== 'docker') return new BuildahFamilyEngine(name, runner);
  const hasBuildx = await commandSucceeds(runner, 'docker', ['buildx', 'version']);
  return new DockerEngine(runner, hasBuildx, hasBuildx || (await dockerClientMajorVersion(runner)) < firstClientWithoutBuildKit);
}

/** Docker 23 moved BuildKit out of the client into the buildx plugin; earlier clients (Debian's 20.10) have it built in. */
const firstClientWithoutBuildKit = 23;

/** The client's major version, from `docker --version` ("Docker version 20.10.24+dfsg1, build …"); 0 when it says none. */
async function dockerClientMajorVersion(runner: CommandRunner): Promise<number> {
  const result = await runner.run('docker', ['--version']);
  return Number(/version (\d+)\./.exec(result.stdout)?.[1] ?? 0);
}
