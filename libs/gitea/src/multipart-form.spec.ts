import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import { multipartForm } from './multipart-form';

/** Reads a form back as a server would: the WHATWG parser Node ships, which follows the same standard Gitea's Go parser does. */
async function parsedFile(headers: Record<string, string>, body: Buffer): Promise<File> {
  const form = await new Response(new Uint8Array(body), { headers: { 'content-type': headers['content-type']! } }).formData();
  return form.get('attachment') as File;
}

describe('multipartForm', () => {
  it('streams one file field whose bytes, name and announced length a standard parser reads back', async () => {
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, index) => index % 251));
    const form = multipartForm('attachment', { name: 'changemaker-lite-v1.2.3.tar.gz', size: bytes.length, open: () => Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]) });
    const body = await buffer(form.body);
    expect(Number(form.headers['content-length'])).toBe(body.length);
    const file = await parsedFile(form.headers, body);
    expect(file.name).toBe('changemaker-lite-v1.2.3.tar.gz');
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('keeps a name with quotes and line breaks inside its header parameter, as browsers encode it', async () => {
    const form = multipartForm('attachment', { name: 'a"b\r\nc.txt', size: 2, open: () => Readable.from([Buffer.from('hi')]) });
    const body = await buffer(form.body);
    expect(body.toString('latin1')).toContain('filename="a%22b%0D%0Ac.txt"');
    expect(await (await parsedFile(form.headers, body)).text()).toBe('hi');
  });

  it('frames every form with a new random boundary', () => {
    const open = () => Readable.from([]);
    expect(multipartForm('attachment', { name: 'x', size: 0, open }).headers['content-type']).not.toBe(multipartForm('attachment', { name: 'x', size: 0, open }).headers['content-type']);
  });
});
