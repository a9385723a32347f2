import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

/** Bodies larger than this are not read just to free their connection; it is closed instead. */
const discardLimitBytes = 128 * 1024;

/** A registry's answer: status, headers, and a body read once (streamed, read whole, or discarded). */
export class HttpResponse {
  constructor(private readonly message: IncomingMessage) {}

  get statusCode(): number {
    return this.message.statusCode ?? 0;
  }

  /** The body as it arrives; it fails with the connection if that breaks off. */
  get body(): Readable {
    return this.message;
  }

  header(name: string): string | undefined {
    const value = this.message.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }

  async bytes(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.message) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  /**
   * Reads and drops a body nobody needs (even an empty one), which is what hands the
   * connection back for the next request; a large one is cut off with its connection.
   */
  discard(): Promise<void> {
    const message = this.message;
    if (message.readableEnded || message.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      let bytes = 0;
      message.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > discardLimitBytes) message.destroy();
      });
      message.on('error', () => undefined);
      message.once('end', resolve);
      message.once('close', resolve);
    });
  }
}
