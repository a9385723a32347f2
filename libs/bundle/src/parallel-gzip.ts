import { promisify } from 'node:util';
import { constants, crc32, deflateRaw, type ZlibOptions } from 'node:zlib';

const deflateRawAsync = promisify<Buffer, ZlibOptions, Buffer>(deflateRaw);

// Fixed, never derived from the machine: the bytes must not depend on its cores or thread pool.
const BLOCK_SIZE = 1024 * 1024;
const DICTIONARY_SIZE = 32 * 1024;
// gzip's own default level; a fixed level is part of reproducibility.
const LEVEL = 6;
// Magic, deflate, no flags (no name, no comment), mtime 0, no extra flags, OS Unix (so Windows agrees).
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3]);

/**
 * The deflate parallelGzip uses, as the release manifest records it: the same bytes need the same
 * zlib. Node bundles Chromium's zlib, whose output differs from stock zlib's, and a Node built on
 * the system's zlib uses that one.
 */
export const parallelGzipName = `node zlib ${process.versions.zlib}, level ${LEVEL}, ${BLOCK_SIZE / 1024 / 1024} MiB blocks`;

/**
 * gzip the way pigz does: fixed-size blocks deflated concurrently on libuv's thread pool, each
 * primed with the 32 KiB before it so the ratio barely changes, joined into one deflate stream that
 * any gunzip reads. Compression is most of packaging's time; this spreads it over the cores.
 * Reproducible wherever Node has the same zlib (parallelGzipName).
 */
export async function parallelGzip(data: Buffer): Promise<Buffer> {
  const blockCount = Math.max(1, Math.ceil(data.length / BLOCK_SIZE));
  const blocks = Array.from({ length: blockCount }, (_, index) => deflateBlock(data, index, index === blockCount - 1));
  return Buffer.concat([GZIP_HEADER, ...(await Promise.all(blocks)), gzipTrailer(data)]);
}

function deflateBlock(data: Buffer, index: number, last: boolean): Promise<Buffer> {
  const start = index * BLOCK_SIZE;
  // A sync flush ends a block on a byte boundary without marking the stream final, so blocks concatenate.
  const options: ZlibOptions = { level: LEVEL, finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH };
  if (start > 0) options.dictionary = data.subarray(start - DICTIONARY_SIZE, start);
  return deflateRawAsync(data.subarray(start, start + BLOCK_SIZE), options);
}

function gzipTrailer(data: Buffer): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data) >>> 0, 0);
  trailer.writeUInt32LE(data.length % 2 ** 32, 4);
  return trailer;
}
