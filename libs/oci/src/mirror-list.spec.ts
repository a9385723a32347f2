import Ajv from 'ajv';
import { mirrorListSchema as schema, MirrorListError, parseMirrorList, selectGroups } from './mirror-list';

function listText(images: Array<{ source: string; target: string }>, extra = ''): string {
  return `{\n  "groups": {\n    "core": {\n      "images": [\n${images.map((i) => `        { "source": "${i.source}", "target": "${i.target}"${extra} }`).join(',\n')}\n      ]\n    }\n  }\n}\n`;
}

function problemsOf(text: string): string[] {
  try {
    parseMirrorList(text, 'mirror.json');
  } catch (error) {
    if (error instanceof MirrorListError) return error.problems;
    throw error;
  }
  throw new Error('expected a MirrorListError');
}

describe('parseMirrorList', () => {
  it("checks lists against a schema that is itself valid JSON Schema (the parser skips that check)", () => {
    const ajv = new Ajv();
    expect(ajv.validateSchema(schema)).toBe(true);
    expect(ajv.errors ?? null).toBeNull();
  });

  it('reads groups and images with their lines', () => {
    const list = parseMirrorList(listText([{ source: 'docker.io/library/redis:7-alpine', target: 'redis:7-alpine' }, { source: 'docker.io/jitsi/web:stable-9823', target: 'jitsi-web:stable-9823' }]), 'mirror.json');
    const images = selectGroups(list, ['core']);
    expect(images.map((i) => [i.source.toString(), i.target, i.line])).toEqual([
      ['docker.io/library/redis:7-alpine', 'redis:7-alpine', 5],
      ['docker.io/jitsi/web:stable-9823', 'jitsi-web:stable-9823', 6],
    ]);
  });

  it('names file and line of a JSON syntax error', () => {
    expect(problemsOf('{\n  "groups": {\n    "core": ,\n  }\n}')).toEqual(['mirror.json:3: not valid JSON: value expected']);
  });

  it('names the line and image of a schema error', () => {
    const problems = problemsOf(listText([{ source: 'docker.io/library/redis:7-alpine', target: 'redis:7-alpine' }], ', "tga": "x"'));
    expect(problems).toEqual(['mirror.json:5: groups.core.images.0 (image docker.io/library/redis:7-alpine) must NOT have additional properties "tga"']);
  });

  it('names the line of a malformed reference', () => {
    const problems = problemsOf(listText([{ source: 'docker.io/library/redis:7-alpine', target: 'redis:7-alpine' }, { source: 'docker.io/Library/redis', target: 'x:1' }]));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^mirror\.json:6: groups\.core\.images\.1\.source \(image docker\.io\/Library\/redis\) must match pattern/);
  });

  it('refuses a source that carries credentials without repeating them', () => {
    const problems = problemsOf(listText([{ source: 'ci:s3cret-pw@ghcr.io/org/app:1', target: 'app:1' }]));
    expect(problems).toEqual(['mirror.json:5: groups.core.images.0.source (image ***@ghcr.io/org/app:1) carries credentials (user:password@ before the host); remove them and log in instead (docker login, or GITEA_REGISTRY_USER and GITEA_REGISTRY_PASSWORD for GITEA_REGISTRY)']);
  });

  it('rejects two sources claiming one target name, naming both', () => {
    const problems = problemsOf(listText([{ source: 'docker.io/library/nginx:1.27', target: 'nginx:1.27' }, { source: 'lscr.io/linuxserver/nginx:1.28.2', target: 'nginx:1.28.2' }]));
    expect(problems).toEqual(['mirror.json:6: target "nginx" is claimed by both docker.io/library/nginx:1.27 (line 5) and lscr.io/linuxserver/nginx:1.28.2; give one an explicit short name']);
  });

  it('rejects an unknown group, listing the known ones', () => {
    const list = parseMirrorList(listText([{ source: 'docker.io/library/redis:7', target: 'redis:7' }]), 'mirror.json');
    expect(() => selectGroups(list, ['core', 'nope'])).toThrow('unknown group "nope"; the groups are core');
  });
});
