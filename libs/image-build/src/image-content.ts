import { isIndexMediaType, type BlobDescriptor, type ChildDescriptor, type FetchedManifest, type ImageStore } from '@changemaker/oci';
import { revisionLabel, versionLabel } from './image-labels';

/**
 * What an image holds apart from the commit it was built at: for each platform, its layers and its
 * runtime settings (environment, command, user, ports, health check), without the labels, times
 * and history, and with the commit and version it names (its revision and version labels, which
 * the GIT_COMMIT and APP_VERSION build args also carry into its environment) as placeholders. Two
 * builds of the same inputs at two commits differ only there, unless a base image changed.
 */
export async function imageContentOf(store: ImageStore, manifest: FetchedManifest): Promise<string> {
  const images = isIndexMediaType(manifest.mediaType)
    ? await Promise.all((JSON.parse(manifest.bytes.toString('utf8')) as { manifests: ChildDescriptor[] }).manifests.map((child) => store.getManifest(child.digest)))
    : [manifest];
  const platforms = await Promise.all(images.map((image) => platformContentOf(store, image)));
  return JSON.stringify(platforms.sort());
}

interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  config?: Record<string, unknown> & { Labels?: unknown };
  rootfs?: unknown;
}

async function platformContentOf(store: ImageStore, manifest: FetchedManifest): Promise<string> {
  const { config, layers } = JSON.parse(manifest.bytes.toString('utf8')) as { config: BlobDescriptor; layers: BlobDescriptor[] };
  const image = JSON.parse(Buffer.concat(await (await store.openBlob(config)).toArray()).toString('utf8')) as ImageConfig;
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
