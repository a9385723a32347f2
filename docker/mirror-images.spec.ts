import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadMirrorList, mirrorListSchema, mirrorLockFileOf, readMirrorLock, selectGroups } from '@changemaker/oci';

const file = join(__dirname, 'mirror-images.json');

describe('docker/mirror-images.json', () => {
  it('has a lock beside it whose entries are pins of the list, with their sources', async () => {
    const lock = await readMirrorLock(mirrorLockFileOf(file));
    const pins = new Map(selectGroups(await loadMirrorList(file), undefined).map((image) => [image.target, image.source.toString()]));
    for (const [target, entry] of lock) expect(pins.get(target)).toBe(entry.source);
  });

  it('names, for the editor, the schema the mirror executor validates it with', () => {
    const { $schema } = JSON.parse(readFileSync(file, 'utf8')) as { $schema: string };
    expect(JSON.parse(readFileSync(resolve(__dirname, $schema), 'utf8'))).toEqual(mirrorListSchema);
  });

  it('pins the seed\'s 36 images in 4 groups (core 5, platform 16, communication 8, monitoring 7)', async () => {
    const list = await loadMirrorList(file);
    expect([...list.groups].map(([name, images]) => [name, images.length])).toEqual([
      ['core', 5], ['platform', 16], ['communication', 8], ['monitoring', 7],
    ]);
    for (const image of selectGroups(list, undefined)) {
      expect(image.source.tag).toBeTruthy();
      expect(image.target).toMatch(/^[a-z0-9.-]+:[\w][\w.-]*$/);
    }
  });

  it('follows the seed\'s naming conventions', async () => {
    const targets = Object.fromEntries(selectGroups(await loadMirrorList(file), undefined).map((i) => [i.source.name, i.target]));
    expect(targets['docker.io/nocodb/nocodb']).toBe('nocodb:0.301.3');
    expect(targets['docker.io/gotify/server']).toMatch(/^gotify:/);
    expect(targets['docker.io/vaultwarden/server']).toMatch(/^vaultwarden:/);
    expect(targets['lscr.io/linuxserver/nginx']).toBe('ls-nginx:1.28.2');
    for (const component of ['web', 'prosody', 'jicofo', 'jvb']) expect(targets[`docker.io/jitsi/${component}`]).toBe(`jitsi-${component}:stable-9823`);
    expect(targets['docker.io/library/postgres']).toBe('postgres:16-alpine');
  });

  it('pins every third-party image the production compose file uses', async () => {
    const compose = readFileSync(join(__dirname, 'docker-compose.prod.yml'), 'utf8');
    const mirrored = new Set(selectGroups(await loadMirrorList(file), undefined).map((i) => i.target));
    const thirdParty = [...compose.matchAll(/image: \$\{GITEA_REGISTRY:-gitea\.bnkops\.com\/admin\}\/([^\s]+)/g)]
      .map((match) => match[1])
      .filter((name) => !name.startsWith('changemaker-'));
    expect(thirdParty.filter((name) => !mirrored.has(name))).toEqual([]);
  });
});
