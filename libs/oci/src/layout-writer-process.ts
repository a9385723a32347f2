/**
 * A second writer to an OCI layout in its own Node process, for layout-lock.spec.ts
 * (run as `node -r @swc-node/register layout-writer-process.ts ...`):
 *   add-tags <dir> <prefix> <count>  prints "writing", then tags <prefix>-0 .. <prefix>-<count-1>, each its own small manifest
 *   hold-lock <dir>                  takes the index lock, prints "held", keeps it until stdin closes
 */
import { Readable } from 'node:stream';
import { sha256Digest } from './digest';
import { withLayoutLock } from './layout-lock';
import { mediaTypes } from './media-types';
import { OciLayout } from './oci-layout';

const emptyConfig = Buffer.from('{}');

async function addTags(directory: string, prefix: string, count: number): Promise<void> {
  // One instance, as a mirror run has: its own updates queue in-process, so any tag lost is lost
  // to the other processes.
  const layout = new OciLayout(directory);
  const config = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256Digest(emptyConfig), size: emptyConfig.length };
  await layout.writeBlob(config, Readable.from([emptyConfig]));
  const tags = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  process.stdout.write('writing\n');
  await Promise.all(
    tags.map((tag) => {
      const manifest = { schemaVersion: 2, mediaType: mediaTypes.ociManifest, config, layers: [], annotations: { tag } };
      const bytes = Buffer.from(JSON.stringify(manifest));
      return layout.putManifest(tag, { bytes, mediaType: mediaTypes.ociManifest, digest: sha256Digest(bytes) });
    }),
  );
}

/** Released when the test closes stdin (or dies); the test kills it instead to leave a dead holder behind. */
async function holdLock(directory: string): Promise<void> {
  await withLayoutLock(directory, async () => {
    process.stdout.write('held\n');
    await new Promise((resolve) => process.stdin.on('end', resolve).resume());
  });
}

const [command, directory, prefix, count] = process.argv.slice(2);
const run = command === 'add-tags' ? addTags(directory, prefix, Number(count)) : holdLock(directory);
run.catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
});
