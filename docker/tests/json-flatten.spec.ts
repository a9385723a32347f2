import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { workspaceRoot } from './fixtures/releases';

/**
 * install.sh and upgrade.sh read Gitea's JSON with awk alone, and a server's awk may be any: Debian's
 * mawk, RHEL's gawk, Alpine's busybox. Each present here flattens the same answers to the same lines.
 */
const awks = [
  ['mawk', ['/usr/bin/mawk']],
  ['gawk', ['/usr/bin/gawk']],
  ['busybox awk', ['/bin/busybox', 'awk']],
].filter(([, command]) => existsSync(command![0]!)) as [string, string[]][];

const release = {
  id: 7,
  tag_name: 'v1.2.0',
  name: 'Release "quoted" \\ back / slash',
  body: 'line1\nline2 é \u00e9\ttab',
  draft: false,
  prerelease: true,
  assets: [
    { id: 1, name: 'changemaker-lite-v1.2.0.tar.gz', size: 43080, browser_download_url: 'http://127.0.0.1:3000/attachments/aaaa-1' },
    { id: 2, name: 'SHA256SUMS', size: -1500.25, uuid: 'bbbb-2' },
  ],
  author: {},
  tags: [],
  nothing: null,
};

/** Each value on one line: strings keep their JSON escapes but \" \\ and \/, numbers as written. */
const flattened = [
  'id\t7',
  'tag_name\tv1.2.0',
  'name\tRelease "quoted" \\ back / slash',
  'body\tline1\\nline2 é é\\ttab',
  'draft\tfalse',
  'prerelease\ttrue',
  'assets/0/id\t1',
  'assets/0/name\tchangemaker-lite-v1.2.0.tar.gz',
  'assets/0/size\t43080',
  'assets/0/browser_download_url\thttp://127.0.0.1:3000/attachments/aaaa-1',
  'assets/1/id\t2',
  'assets/1/name\tSHA256SUMS',
  'assets/1/size\t-1500.25',
  'assets/1/uuid\tbbbb-2',
  'nothing\tnull',
].join('\n');

describe.each(awks)("install.sh's JSON reader with %s", (_name, command) => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'json-flatten-'));
    await writeFile(join(dir, 'awk'), `#!/bin/sh\nexec ${command.join(' ')} "$@"\n`, { mode: 0o755 });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** install.sh sourced, as upgrade.sh sources it, with this awk first on PATH. */
  const installFunction = (script: string, ...args: string[]) =>
    execa('bash', ['-c', `source "$0" && ${script}`, join(workspaceRoot, 'docker/scripts/install.sh'), ...args], {
      reject: false,
      env: { PATH: `${dir}:${process.env['PATH']}`, LC_ALL: 'C.UTF-8' },
    });

  it.each([
    ['compact, as Gitea sends it', JSON.stringify(release)],
    ['indented, as a proxy or a newer Gitea may send it', JSON.stringify(release, null, 2)],
    ['indented with CRLF line ends', JSON.stringify(release, null, '\t').replaceAll('\n', '\r\n')],
  ])('flattens a release answer %s, and finds its values and assets', async (_form, text) => {
    const file = join(dir, 'release.json');
    await writeFile(file, text);
    expect((await installFunction('json_flatten "$1"', file)).stdout).toBe(flattened);
    await writeFile(join(dir, 'release.flat'), `${flattened}\n`);
    const flat = join(dir, 'release.flat');
    expect((await installFunction('flat_value "$1" tag_name', flat)).stdout).toBe('v1.2.0');
    expect((await installFunction('flat_asset_url "$1" SHA256SUMS uuid', flat)).stdout).toBe('bbbb-2');
    expect((await installFunction('flat_asset_url "$1" changemaker-lite-v1.2.0.tar.gz', flat)).stdout).toBe('http://127.0.0.1:3000/attachments/aaaa-1');
  });

  it.each([
    ['cut off in a string', '{"tag_name":"v1.2', 'not JSON: unterminated string at character'],
    ['an HTML page', '<html><title>Sign in</title></html>', 'not JSON: unexpected "<" at character 1'],
    ['trailing text', '{"a":1} x', 'not JSON: trailing text at character'],
  ])('refuses %s, saying where', async (_what, text, said) => {
    const file = join(dir, 'broken.json');
    await writeFile(file, text);
    const result = await installFunction('json_flatten "$1"', file);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(said);
  });
});
