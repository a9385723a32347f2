import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';

const dockerDir = join(__dirname, '..');
const customServices = ['api', 'admin', 'media-api', 'nginx'];
const registryDefault = '${GITEA_REGISTRY:-gitea.bnkops.com/admin}';

interface ComposeService {
  image?: string;
  environment?: Record<string, string> | string[];
  build?: { context: string; dockerfile: string; target: string };
  volumes?: string[];
  healthcheck?: { test: string[] };
}

async function readServices(file: string): Promise<Record<string, ComposeService>> {
  return parse(await readFile(join(dockerDir, file), 'utf8')).services;
}

/**
 * Runs Debian's docker-compose validator in a scratch copy of docker/, because both files read
 * `.env` through env_file, and a developer's real .env must neither be needed nor read.
 */
async function validateCompose(file: string, content?: string): Promise<{ exitCode?: number; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'cm-compose-'));
  try {
    if (content === undefined) await copyFile(join(dockerDir, file), join(dir, file));
    else await writeFile(join(dir, file), content);
    await writeFile(join(dir, '.env'), '');
    return await execa('docker-compose', ['-f', file, 'config', '-q'], { cwd: dir, reject: false });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe.each(['docker-compose.prod.yml', 'docker-compose.yml'])('%s', (file) => {
  it('is a valid compose file for docker-compose', async () => {
    const result = await validateCompose(file);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });
});

it('the validator rejects a broken compose file, so the checks above can fail', async () => {
  const result = await validateCompose('docker-compose.prod.yml', 'services:\n  api:\n    image: [not, a, string]\n');
  expect(result.exitCode).not.toBe(0);
});

it.each(['docker-compose.prod.yml', 'docker-compose.yml'])('%s uses third-party images only as pinned in mirror-images.json', async (file) => {
  const mirror = JSON.parse(await readFile(join(dockerDir, 'mirror-images.json'), 'utf8')) as { groups: Record<string, { images: Array<{ target: string }> }> };
  const pinned = new Set(Object.values(mirror.groups).flatMap((group) => group.images.map((image) => image.target)));
  const thirdParty = Object.values(await readServices(file))
    .map((service) => service.image ?? '')
    .filter((image) => image.startsWith(`${registryDefault}/`) && !image.includes('/changemaker-'))
    .map((image) => image.slice(registryDefault.length + 1));
  expect(thirdParty.length).toBeGreaterThan(0);
  expect(thirdParty.filter((image) => !pinned.has(image))).toEqual([]);
});

describe('docker-compose.prod.yml', () => {
  it('pulls every image from the private registry and builds nothing', async () => {
    const services = await readServices('docker-compose.prod.yml');
    for (const [name, service] of Object.entries(services)) {
      expect({ name, build: service.build }).toEqual({ name, build: undefined });
      expect(service.image?.startsWith(`${registryDefault}/`)).toBe(true);
    }
  });

  it('names the custom images changemaker-<service> with the IMAGE_TAG tag', async () => {
    const services = await readServices('docker-compose.prod.yml');
    for (const name of customServices) {
      expect(services[name].image).toBe(`${registryDefault}/changemaker-${name}:\${IMAGE_TAG:-latest}`);
    }
  });

  it('gives the custom services APP_VERSION as their image tag, which package-release pins with it', async () => {
    const services = await readServices('docker-compose.prod.yml');
    for (const name of customServices) {
      expect({ name, environment: services[name].environment }).toEqual({ name, environment: expect.objectContaining({ APP_VERSION: '${IMAGE_TAG:-latest}' }) });
    }
  });

  it('checks the health of api and media-api on /api/health', async () => {
    const services = await readServices('docker-compose.prod.yml');
    expect(services.api.healthcheck?.test.join(' ')).toContain('http://127.0.0.1:4000/api/health');
    expect(services['media-api'].healthcheck?.test.join(' ')).toContain('http://127.0.0.1:4100/api/health');
  });

  it('mounts no source code', async () => {
    const services = await readServices('docker-compose.prod.yml');
    const mounts = Object.values(services).flatMap((service) => service.volumes ?? []);
    expect(mounts.filter((mount) => mount.startsWith('../'))).toEqual([]);
  });
});

describe('docker-compose.yml (development)', () => {
  it('builds each custom service from the development stage of its Dockerfile, with its source mounted', async () => {
    const services = await readServices('docker-compose.yml');
    for (const name of customServices) {
      expect(services[name].build).toEqual({ context: '..', dockerfile: `apps/${name}/Dockerfile`, target: 'development' });
      const sourceMount = name === 'nginx' ? '../apps/nginx/templates:/etc/nginx/templates:ro' : `../apps/${name}:/workspace/apps/${name}`;
      expect(services[name].volumes).toContain(sourceMount);
    }
  });
});
