import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { contextFilterOf, ignoreFileFor, type ContextFilter } from './build-context';
import { effectivePlatforms } from './platforms';

/** Everything that decides an image's content; labels naming the commit or the time are left out on purpose. */
export interface ImageInputs {
  dockerfile: string;
  context: string;
  target?: string;
  buildArgs: Readonly<Record<string, string>>;
  platforms: readonly string[];
}

const inputsTagPrefix = 'inputs-';

/**
 * How this toolchain turns inputs into an image. Bump it whenever that changes for the same inputs
 * (labels, layer timestamps, what is dropped from the config after the push), so an image an older
 * version built is rebuilt once instead of being tagged registry-side as if it were today's.
 * 2: layers stamped with a fixed time, the commit time set in the config after the push.
 * 3: the engine's own platform hashed when none is asked for; every file's and directory's
 *    permission bits, not only the execute bit; the ignore file that applies, and only the files
 *    it lets through; buildah and podman handed the ignore file docker's BuildKit reads.
 */
const buildRecipe = 'changemaker-image/3';

/**
 * The registry tag under which an image of exactly these inputs is kept, so that any machine, with
 * any Nx cache, can ask the registry whether the build is needed at all.
 */
export async function inputsTagFor(inputs: ImageInputs): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`recipe\0${buildRecipe}\0`);
  hash.update(`dockerfile\0${await readFile(inputs.dockerfile, 'utf8')}\0`);
  hash.update(`target\0${inputs.target ?? ''}\0`);
  for (const name of Object.keys(inputs.buildArgs).sort()) hash.update(`arg\0${name}=${inputs.buildArgs[name]}\0`);
  // Empty means the engine's own platform: an arm64 laptop's image is not an amd64 runner's.
  const { platforms, engineDefault } = effectivePlatforms(inputs.platforms);
  hash.update(`platforms\0${engineDefault ? 'engine-default:' : ''}${platforms.join(',')}\0`);
  const ignoreFile = ignoreFileFor(inputs.dockerfile, inputs.context);
  hash.update(`ignore\0${ignoreFile ? await readFile(ignoreFile, 'utf8') : ''}\0`);
  hash.update(`context\0${permissionsOf((await lstat(inputs.context)).mode)}\0`);
  await hashDirectory(hash, inputs.context, inputs.context, await contextFilterOf(ignoreFile));
  return `${inputsTagPrefix}${hash.digest('hex')}`;
}

/** COPY keeps a file's mode: a 0600 file copied for a service running as another user cannot be read. */
function permissionsOf(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/**
 * Every path the build sends, with its type, permission bits and content; those the ignore file
 * excludes are left out. A directory left out but holding a path a `!` pattern sends is created
 * in the image all the same, with its own permission bits: it is hashed after what it holds.
 * Says whether anything under `directory` was sent.
 */
async function hashDirectory(hash: Hash, root: string, directory: string, filter: ContextFilter): Promise<boolean> {
  const entries = (await readdir(directory)).sort();
  let sentAny = false;
  for (const name of entries) {
    const path = join(directory, name);
    const key = relative(root, path).split(sep).join('/');
    const sent = filter.sends(key);
    const stats = await lstat(path);
    if (stats.isDirectory()) {
      if (sent) hash.update(`dir\0${key}\0${permissionsOf(stats.mode)}\0`);
      const sentInside = (sent || filter.mayReinclude) && (await hashDirectory(hash, root, path, filter));
      if (!sent && sentInside) hash.update(`parent\0${key}\0${permissionsOf(stats.mode)}\0`);
      sentAny ||= sent || sentInside;
    } else if (!sent) {
      continue;
    } else if (stats.isSymbolicLink()) {
      hash.update(`link\0${key}\0${await readlink(path)}\0`);
      sentAny = true;
    } else if (stats.isFile()) {
      hash.update(`file\0${key}\0${permissionsOf(stats.mode)}\0${stats.size}\0`);
      await hashFileContent(hash, path);
      sentAny = true;
    }
  }
  return sentAny;
}

function hashFileContent(hash: Hash, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', resolve)
      .on('error', reject);
  });
}
