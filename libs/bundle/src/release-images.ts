import { projectOfRepository, type ManifestImage, type WorkspaceImage } from '@changemaker/release-contract';
import { ImageRefusedError } from './bundle-errors';
import { pinAppVersions } from './compose-app-version';
import type { ComposeImage } from './compose-images';
import { ImageReferenceTemplate, releaseTagExpression } from './image-reference-template';
import type { MirrorPins } from './mirror-pins';


export interface ReleaseImagePolicy {
  composeFile: string;
  /** The workspace's image projects and their repositories. */
  workspaceImages: readonly WorkspaceImage[];
  mirrorPins: MirrorPins | undefined;
  mirrorManifest: string;
  /** The GITEA_REGISTRY the release is cut against; references default to the compose file's own default. */
  registry?: string;
}

export interface PinnedCompose {
  text: string;
  images: ManifestImage[];
}

/**
 * Pins the workspace's service images to the release tag, and their APP_VERSION to the same
 * expression (so a container reports the release it was installed as, or the IMAGE_TAG an operator
 * set, whatever build its image came from), and refuses every image a release install could not
 * pull from its private registry at a pinned version.
 */
export function pinComposeToRelease(composeText: string, images: readonly ComposeImage[], tag: string, policy: ReleaseImagePolicy): PinnedCompose {
  let text = composeText;
  const releaseImages: ManifestImage[] = [];
  const workspaceServices: string[] = [];
  for (const { service, image } of images) {
    const template = new ImageReferenceTemplate(image);
    refuseUnpinnable(template, policy);
    if (isWorkspaceServiceImage(template, policy)) {
      const pinned = template.pinnedTo(tag);
      text = text.split(image).join(pinned);
      workspaceServices.push(service);
      releaseImages.push({ service, reference: new ImageReferenceTemplate(pinned).resolvedIn(policy.registry), source: 'workspace' });
    } else {
      refuseUnmirrored(template, policy);
      releaseImages.push({ service, reference: template.resolvedIn(policy.registry), source: 'mirror' });
    }
  }
  text = pinAppVersions(policy.composeFile, text, workspaceServices, releaseTagExpression(tag));
  return { text, images: releaseImages };
}

function refuseUnpinnable(template: ImageReferenceTemplate, policy: ReleaseImagePolicy): void {
  const [variable] = template.variablesWithoutDefault;
  if (variable) refuse(template, policy, `uses \${${variable}} without a default; write \${${variable}:-<value>} so the release knows what it runs`);
  if (!template.comesFromPrivateRegistry) {
    refuse(template, policy, 'is not pulled from ${GITEA_REGISTRY:-...}/; release installs use the private registry only, mirror it there');
  }
}

function isWorkspaceServiceImage(template: ImageReferenceTemplate, policy: ReleaseImagePolicy): boolean {
  return projectOfRepository(template.nameInRegistry, policy.workspaceImages) !== undefined;
}

function refuseUnmirrored(template: ImageReferenceTemplate, policy: ReleaseImagePolicy): void {
  if (!policy.mirrorPins) refuse(template, policy, `is third-party but ${policy.mirrorManifest} does not exist; pin it there`);
  const pinnedTag = policy.mirrorPins.get(template.nameInRegistry);
  if (pinnedTag === undefined) {
    const repositories = policy.workspaceImages.map((image) => image.repository).join(', ');
    refuse(template, policy, `is neither an image of this workspace's projects (${repositories}) nor pinned in ${policy.mirrorManifest}; pin it there`);
  }
  if (pinnedTag !== template.tag) {
    refuse(template, policy, `does not match its pin ${template.nameInRegistry}:${pinnedTag} in ${policy.mirrorManifest}; use the pinned version`);
  }
}

function refuse(template: ImageReferenceTemplate, policy: ReleaseImagePolicy, reason: string): never {
  throw new ImageRefusedError(policy.composeFile, template.written, reason);
}
