import { readFile } from 'node:fs/promises';
import { MirrorManifestError } from './bundle-errors';

/** Short name -> pinned tag, as docker/mirror-images.json mirrors them into the private registry. */
export type MirrorPins = ReadonlyMap<string, string>;

/** Reads the mirror list; `undefined` when the file does not exist (only third-party images need it). */
export async function readMirrorPins(path: string, shownAs: string): Promise<MirrorPins | undefined> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return undefined;
  return pinsOf(parseJson(text, shownAs), shownAs);
}

function parseJson(text: string, shownAs: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MirrorManifestError(`${shownAs}: is not valid JSON (${(error as Error).message}); fix it`);
  }
}

function pinsOf(manifest: unknown, shownAs: string): MirrorPins {
  const groups = (manifest as { groups?: unknown })?.groups;
  if (typeof groups !== 'object' || groups === null) {
    throw new MirrorManifestError(`${shownAs}: has no "groups" object; see docker/mirror-images.schema.json`);
  }
  const pins = new Map<string, string>();
  for (const image of Object.values(groups).flatMap((group: { images?: unknown }) => (Array.isArray(group?.images) ? group.images : []))) {
    const target = targetOf(image);
    if (!target) throw new MirrorManifestError(`${shownAs}: an entry has no target "name:tag"; see docker/mirror-images.schema.json`);
    pins.set(target.name, target.tag);
  }
  return pins;
}

function targetOf(image: unknown): { name: string; tag: string } | undefined {
  const target = (image as { target?: unknown })?.target;
  if (typeof target !== 'string') return undefined;
  const colon = target.lastIndexOf(':');
  return colon > 0 ? { name: target.slice(0, colon), tag: target.slice(colon + 1) } : undefined;
}
