import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/** The one file a form carries: its name, its length, and a fresh stream of its bytes on each call. */
export interface FormFile {
  name: string;
  size: number;
  open(): Readable;
}

/** A multipart/form-data request body of one file field, streamed, with its length known before it is sent. */
export interface MultipartForm {
  headers: Record<string, string>;
  body: Readable;
}

export function multipartForm(field: string, file: FormFile): MultipartForm {
  const boundary = `----changemaker-${randomBytes(16).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="${escapedQuotedValue(field)}"; filename="${escapedQuotedValue(file.name)}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + file.size + tail.length),
    },
    body: Readable.from(framed(head, file.open(), tail), { objectMode: false }),
  };
}

async function* framed(head: Buffer, content: Readable, tail: Buffer): AsyncGenerator<Buffer> {
  yield head;
  for await (const chunk of content) yield chunk as Buffer;
  yield tail;
}

/** As browsers write a name into a quoted header parameter (the HTML standard's form-data encoding). */
function escapedQuotedValue(value: string): string {
  return value.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
}
