import { isIndexMediaType, type BlobDescriptor, type ChildDescriptor, type FetchedManifest, type ImageStore } from '@changemaker/oci';
import { revisionLabel, versionLabel } from './image-labels';
import { platformOf, type Platform } from './platforms';

/**
 * What an image holds apart from the commit it was built at: for each platform, its layers and its
 * runtime settings (environment, command, user, ports, health check), without the labels, times
 * and history, and with the commit and version it names (its revision and version labels, which
 * the GIT_COMMIT and APP_VERSION build args also carry into its environment) as placeholders. Two
 * builds of the same inputs at two commits differ only there, unless a base image changed.
 */
export async function imageContentOf(store: ImageStore, manifest: FetchedManifest): Promise<string> {
  const platforms = await Promise.all((await platformManifestsOf(store, manifest)).map((image) => platformContentOf(store, image)));
  return JSON.stringify(platforms.sort());
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: unknown;
  config?: Record<string, unknown> & { Labels?: unknown };
  rootfs?: unknown;
}

/** The image manifest of each platform: the manifest itself, or those a list names. */
export async function platformManifestsOf(store: ImageStore, manifest: FetchedManifest): Promise<FetchedManifest[]> {
  if (!isIndexMediaType(manifest.mediaType)) return [manifest];
  const { manifests } = JSON.parse(manifest.bytes.toString('utf8')) as { manifests: ChildDescriptor[] };
  return Promise.all(manifests.map((child) => store.getManifest(child.digest)));
}

/**
 * The platforms an image is for, sorted, each as its config says (os/architecture[/variant]); the
 * attestation manifests docker buildx adds to a list (platform unknown/unknown) are not platforms.
 */
export async function imagePlatformsOf(store: ImageStore, manifest: FetchedManifest): Promise<Platform[]> {
  const images = isIndexMediaType(manifest.mediaType)
    ? await Promise.all(
        (JSON.parse(manifest.bytes.toString('utf8')) as { manifests: Array<ChildDescriptor & { annotations?: Record<string, string> }> }).manifests
          .filter((child) => child.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest')
          .map((child) => store.getManifest(child.digest)),
      )
    : [manifest];
  const configs = await Promise.all(images.map((image) => imageConfigOf(store, image)));
  return configs.map((config) => platformOf(config.os, config.architecture, config.variant)).sort();
}

/** The config an image manifest names, parsed. */
export async function imageConfigOf(store: ImageStore, imageManifest: FetchedManifest): Promise<ImageConfig> {
  const { config } = JSON.parse(imageManifest.bytes.toString('utf8')) as { config: BlobDescriptor };
  return JSON.parse(Buffer.concat(await (await store.openBlob(config)).toArray()).toString('utf8')) as ImageConfig;
}

async function platformContentOf(store: ImageStore, manifest: FetchedManifest): Promise<string> {
  const { layers } = JSON.parse(manifest.bytes.toString('utf8')) as { layers: BlobDescriptor[] };
  const image = await imageConfigOf(store, manifest);
  const { Labels: labels, ...settings } = image.config ?? {};
  return JSON.stringify({
    platform: [image.os, image.architecture, image.variant],
    layers: layers.map((layer) => layer.digest),
    rootfs: image.rootfs,
    settings: withCommitAsPlaceholders(JSON.stringify(Object.fromEntries(Object.entries(settings).sort(([a], [b]) => a.localeCompare(b)))), labels),
  });
}

function withCommitAsPlaceholders(settings: string, labels: unknown): string {
  const named = (labels ?? {}) as Record<string, string>;
  let text = settings;
  for (const [label, placeholder] of [[revisionLabel, '{revision}'], [versionLabel, '{version}']] as const) {
    const value = named[label];
    if (value) text = text.replaceAll(value, placeholder);
  }
  return text;
}
