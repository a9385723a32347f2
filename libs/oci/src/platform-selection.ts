import type { ChildDescriptor } from './descriptors';
import { formatPlatform } from './manifest-content';

const referenceType = 'vnd.docker.reference.type';
const referenceDigest = 'vnd.docker.reference.digest';

/** Whether an index child is built for one of the wanted platforms ("linux/amd64", or "linux/arm" for every arm variant). */
export function isWantedPlatform(child: ChildDescriptor, platforms: string[]): boolean {
  const actual = formatPlatform(child.platform);
  return platforms.some((wanted) => actual === wanted || actual.startsWith(`${wanted}/`));
}

/** A BuildKit attestation manifest: kept exactly when the child it describes is kept. */
export function isAttestation(child: ChildDescriptor): boolean {
  return child.annotations?.[referenceType] === 'attestation-manifest';
}

export function attestedDigest(child: ChildDescriptor): string | undefined {
  return child.annotations?.[referenceDigest];
}
