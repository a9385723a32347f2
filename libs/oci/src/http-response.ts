import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

/** Bodies larger than this are not read just to free their connection; it is closed instead. */
const discardLimitBytes = 128 * 1024;

/** A body longer than its reader allows; the reader says what the body was. */
export class ResponseTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the answer is longer than ${maxBytes} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

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

  /**
   * The whole body, in memory. With `maxBytes`, a longer body (announced or arriving) fails with
   * ResponseTooLargeError and its connection is closed: a server that sends without end cannot
   * fill the memory of a process that reads what should be a small answer.
   */
  async bytes(maxBytes = Infinity): Promise<Buffer> {
    if (Number(this.header('content-length')) > maxBytes) {
      this.message.destroy();
      throw new ResponseTooLargeError(maxBytes);
    }
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of this.message) {
      received += (chunk as Buffer).length;
      // Leaving the loop by a throw destroys the message, which closes its connection.
      if (received > maxBytes) throw new ResponseTooLargeError(maxBytes);
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  async text(maxBytes = Infinity): Promise<string> {
    return (await this.bytes(maxBytes)).toString('utf8');
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
