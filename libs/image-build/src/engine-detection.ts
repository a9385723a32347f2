import { BuildahFamilyEngine } from './buildah-family-engine';
import { commandSucceeds, type CommandRunner } from './command-runner';
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
      if (await isEngineUsable(name, runner)) return createEngine(name, runner);
    }
    throw new NoEngineInstalledError(engineNames);
  }
  validateEngineChoice(choice);
  const name = choice as EngineName;
  if (!(await isEngineUsable(name, runner))) throw new EngineNotInstalledError(name);
  return createEngine(name, runner);
}

function isEngineUsable(name: EngineName, runner: CommandRunner): Promise<boolean> {
  if (name === 'docker') return commandSucceeds(runner, 'docker', ['info', '--format', '{{.ServerVersion}}']);
  return commandSucceeds(runner, name, ['--version']);
}

async function createEngine(name: EngineName, runner: CommandRunner): Promise<ContainerEngine> {
  if (name === 'docker') return new DockerEngine(runner, await commandSucceeds(runner, 'docker', ['buildx', 'version']));
  return new BuildahFamilyEngine(name, runner);
}
