import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { contextFilterOf, ignoreFileFor, sentEntries, type ContextFilter } from './build-context';
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
  await hashSentEntries(hash, inputs.context, await contextFilterOf(ignoreFile));
  return `${inputsTagPrefix}${hash.digest('hex')}`;
}

/** COPY keeps a file's mode: a 0600 file copied for a service running as another user cannot be read. */
function permissionsOf(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/**
 * Every path the build sends, with its type, permission bits and content. A directory left out but
 * holding a path a `!` pattern sends is created in the image all the same, with its own permission
 * bits: it is hashed after what it holds.
 */
async function hashSentEntries(hash: Hash, context: string, filter: ContextFilter): Promise<void> {
  for (const entry of await sentEntries(context, filter)) {
    switch (entry.kind) {
      case 'dir':
      case 'parent':
        hash.update(`${entry.kind}\0${entry.key}\0${permissionsOf(entry.mode)}\0`);
        break;
      case 'link':
        hash.update(`link\0${entry.key}\0${entry.target}\0`);
        break;
      case 'file':
        hash.update(`file\0${entry.key}\0${permissionsOf(entry.mode)}\0${entry.size}\0`);
        await hashFileContent(hash, entry.path);
    }
  }
}

function hashFileContent(hash: Hash, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', resolve)
      .on('error', reject);
  });
}
