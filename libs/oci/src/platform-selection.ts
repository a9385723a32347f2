import { formatPlatform, type ChildDescriptor } from './manifest-content';

const referenceType = 'vnd.docker.reference.type';
const referenceDigest = 'vnd.docker.reference.digest';

/**
 * Keeps the children of an index for the wanted platforms ("linux/amd64", or "linux/arm" for
 * every arm variant), plus the attestation manifests that describe a kept child.
 */
export function selectPlatforms(children: ChildDescriptor[], platforms: string[]): ChildDescriptor[] {
  const kept = children.filter((child) => !isAttestation(child) && platforms.some((wanted) => platformMatches(child, wanted)));
  const keptDigests = new Set(kept.map((child) => child.digest));
  return children.filter((child) => keptDigests.has(child.digest) || (isAttestation(child) && keptDigests.has(child.annotations?.[referenceDigest] ?? '')));
}

function isAttestation(child: ChildDescriptor): boolean {
  return child.annotations?.[referenceType] === 'attestation-manifest';
}

function platformMatches(child: ChildDescriptor, wanted: string): boolean {
  const actual = formatPlatform(child.platform);
  return actual === wanted || actual.startsWith(`${wanted}/`);
}
