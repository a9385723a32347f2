import { createBuildahSandbox, pushStandInBaseImages, type BuildahSandbox } from './buildah-sandbox';
import { startRegistry, type TestRegistry } from './registry-server';
import { startTogether } from './start-together';

/**
 * Everything `nx … -t docker-push` needs on a machine with no daemon and no internet: a registry
 * playing Gitea's, one playing Docker Hub with stand-in base images, and a private buildah.
 */
export interface ImageTestbed {
  registry: TestRegistry;
  hub: TestRegistry;
  sandbox: BuildahSandbox;
  /** Environment for nx: the buildah sandbox, GITEA_REGISTRY, no daemon, no cloud, the task cache inside the workspace. */
  nxEnv: Record<string, string>;
  stop(): Promise<void>;
}

export async function startImageTestbed(): Promise<ImageTestbed> {
  const [hub, registry] = await startTogether<[TestRegistry, TestRegistry]>([startRegistry(), startRegistry()]);
  const stopRegistries = async () => {
    await Promise.all([hub.stop(), registry.stop()]);
  };
  const sandbox = await createBuildahSandbox(hub.host).catch(async (error: unknown) => {
    await stopRegistries();
    throw error;
  });
  const stop = async () => {
    await sandbox.remove();
    await stopRegistries();
  };
  try {
    await pushStandInBaseImages(sandbox, hub.host);
  } catch (error) {
    await stop();
    throw error;
  }
  // Without NX_CACHE_DIRECTORY, Nx 23 keeps a workspace's cache under ~/.nx, keyed by its first
  // commit: every throwaway workspace would leave its own there for good.
  const nxEnv = { ...sandbox.env, GITEA_REGISTRY: `${registry.host}/admin`, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_CACHE_DIRECTORY: '.nx/cache' };
  return { registry, hub, sandbox, nxEnv, stop };
}
