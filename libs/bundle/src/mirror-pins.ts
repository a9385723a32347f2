import { access } from 'node:fs/promises';
import { loadMirrorList, MirrorListError, selectGroups } from '@changemaker/oci';
import { MirrorManifestError } from './bundle-errors';

/** Short name -> pinned tag, as docker/mirror-images.json mirrors them into the private registry. */
export type MirrorPins = ReadonlyMap<string, string>;

/**
 * Reads the mirror list with libs/oci's parser (the one the mirror executor uses, schema checked);
 * `undefined` when the file does not exist (only third-party images need it).
 */
export async function readMirrorPins(path: string, shownAs: string): Promise<MirrorPins | undefined> {
  if (!(await exists(path))) return undefined;
  try {
    const images = selectGroups(await loadMirrorList(path, shownAs), undefined);
    return new Map(images.map((image) => {
      const colon = image.target.lastIndexOf(':');
      return [image.target.slice(0, colon), image.target.slice(colon + 1)];
    }));
  } catch (error) {
    if (error instanceof MirrorListError) throw new MirrorManifestError(error.message);
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, (error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return false;
    throw error;
  });
}
