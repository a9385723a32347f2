import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExecutorContext, ProjectGraph } from '@nx/devkit';
import { execa } from 'execa';
import runExecutor from './executor';
import type { DockerBuildPushOptions } from './schema';
import { sourceRootsOf, uncommittedFilesUnder } from './uncommitted-sources';

/** admin depends on libs/ui, which depends on libs/tokens; api on nothing; npm packages are not projects. */
const projectGraph: ProjectGraph = {
  nodes: {
    admin: { name: 'admin', type: 'app', data: { root: 'apps/admin' } },
    api: { name: 'api', type: 'app', data: { root: 'apps/api' } },
    ui: { name: 'ui', type: 'lib', data: { root: 'libs/ui' } },
    tokens: { name: 'tokens', type: 'lib', data: { root: 'libs/tokens' } },
    nginx: { name: 'nginx', type: 'app', data: { root: 'apps/nginx' } },
  },
  externalNodes: { 'npm:react': { name: 'npm:react', type: 'npm', data: { version: '19.0.0', packageName: 'react' } } },
  dependencies: {
    admin: [
      { source: 'admin', target: 'ui', type: 'static' },
      { source: 'admin', target: 'npm:react', type: 'static' },
    ],
    ui: [{ source: 'ui', target: 'tokens', type: 'static' }],
    tokens: [{ source: 'tokens', target: 'ui', type: 'static' }],
    api: [],
    nginx: [],
  },
};

const files: Record<string, string> = {
  '.gitignore': 'dist/\n*.log\n.env.local\n',
  'apps/admin/Dockerfile': 'FROM nginx:1.27-alpine AS production\nCOPY styles.css /usr/share/nginx/html/\n',
  'apps/admin/src/styles.css': 'body { color: black; }\n',
  'apps/api/Dockerfile': 'FROM node:20 AS production\n',
  'libs/ui/src/index.ts': 'export const ui = 1;\n',
  'libs/tokens/src/index.ts': 'export const tokens = 1;\n',
  'apps/nginx/Dockerfile': 'FROM nginx:1.27-alpine AS production\nCOPY templates/ /etc/nginx/templates/\n',
  'apps/nginx/Dockerfile.dockerignore': 'README.md\n',
  'apps/nginx/templates/default.conf.template': 'server { listen 80; }\n',
  'README.md': '# workspace\n',
};

let root: string;
const git = (...args: string[]) => execa('git', args, { cwd: root });

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cm-uncommitted-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  await git('init', '-q', '-b', 'main');
  await git('add', '.');
  await git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'initial');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function contextFor(projectName: string): ExecutorContext {
  const projects = Object.fromEntries(Object.values(projectGraph.nodes).map((node) => [node.name, { root: node.data.root }]));
  return { root, cwd: root, isVerbose: false, projectName, targetName: 'docker-push', projectsConfigurations: { version: 2, projects }, nxJsonConfiguration: {}, projectGraph } as ExecutorContext;
}

async function push(projectName: string, overrides: Partial<DockerBuildPushOptions> = {}): Promise<{ success: boolean; errors: string[] }> {
  const errors: string[] = [];
  const error = jest.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
  const saved = process.env['GITEA_REGISTRY'];
  process.env['GITEA_REGISTRY'] = '127.0.0.1:9/admin';
  try {
    const options = { push: true, tags: ['{sha}', 'latest'], buildArgs: {}, platforms: [], engine: 'buildah', registryCache: true, cache: true, dryRun: false, ...overrides } as unknown as DockerBuildPushOptions;
    const { success } = await runExecutor(options, contextFor(projectName));
    return { success, errors };
  } finally {
    if (saved === undefined) delete process.env['GITEA_REGISTRY'];
    else process.env['GITEA_REGISTRY'] = saved;
    error.mockRestore();
  }
}

describe('the sources an image is built from', () => {
  it('are the project and every workspace project it depends on, cycles and npm packages aside', () => {
    expect(sourceRootsOf(contextFor('admin'), 'admin')).toEqual(['apps/admin', 'libs/tokens', 'libs/ui']);
    expect(sourceRootsOf(contextFor('api'), 'api')).toEqual(['apps/api']);
  });

  it('are uncommitted when modified, staged, deleted, or new and not ignored, under those roots only', async () => {
    const roots = sourceRootsOf(contextFor('admin'), 'admin');
    expect(await uncommittedFilesUnder(root, roots)).toEqual([]);
    await writeFile(join(root, 'README.md'), 'changed outside the roots\n');
    await mkdir(join(root, 'apps/admin/dist'), { recursive: true });
    await writeFile(join(root, 'apps/admin/dist/main.js'), 'ignored output\n');
    await writeFile(join(root, 'libs/ui/debug.log'), 'ignored\n');
    expect(await uncommittedFilesUnder(root, roots)).toEqual([]);

    await appendFile(join(root, 'apps/admin/src/styles.css'), 'h1 { color: red; }\n');
    await mkdir(join(root, 'libs/tokens/src/new'), { recursive: true });
    await writeFile(join(root, 'libs/tokens/src/new/colors.ts'), 'export const red = 1;\n');
    await rm(join(root, 'libs/ui/src/index.ts'));
    expect((await uncommittedFilesUnder(root, roots))?.sort()).toEqual(['apps/admin/src/styles.css', 'libs/tokens/src/new/colors.ts', 'libs/ui/src/index.ts']);

    await git('add', 'apps/admin/src/styles.css');
    expect(await uncommittedFilesUnder(root, roots)).toContain('apps/admin/src/styles.css');
  });

  it('cannot be told outside a git repository', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'cm-no-git-'));
    try {
      expect(await uncommittedFilesUnder(outside, ['apps/admin'])).toBeUndefined();
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe('docker-push from a working tree with uncommitted changes', () => {
  it('refuses a change to the project itself, in one line naming the file and what to do instead', async () => {
    await appendFile(join(root, 'apps/admin/src/styles.css'), 'h1 { color: red; }\n');
    expect(await push('admin')).toEqual({
      success: false,
      errors: ["admin: not pushed: uncommitted changes in apps/admin/src/styles.css would be pushed as this commit's image; commit or stash them, or build a local image with docker-build"],
    });
  });

  it("refuses a new file in a dependency's files, and names the first three of many", async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) await writeFile(join(root, `libs/tokens/src/${name}.ts`), `export const ${name} = 1;\n`);
    const { success, errors } = await push('admin');
    expect(success).toBe(false);
    expect(errors).toEqual([
      "admin: not pushed: uncommitted changes in libs/tokens/src/a.ts, libs/tokens/src/b.ts, libs/tokens/src/c.ts and 2 more would be pushed as this commit's image; commit or stash them, or build a local image with docker-build",
    ]);
  });

  it("is not refused for another project's changes (api: it goes on to the registry, here unreachable)", async () => {
    await appendFile(join(root, 'apps/admin/src/styles.css'), 'h1 { color: red; }\n');
    const other = await push('api');
    expect(other.success).toBe(false);
    expect(other.errors).toEqual([expect.stringMatching(/^api: .*127\.0\.0\.1:9/)]);
    expect(other.errors.join('\n')).not.toContain('uncommitted');
  });

  it('is not checked on a dry run, which pushes nothing', async () => {
    await appendFile(join(root, 'apps/admin/src/styles.css'), 'h1 { color: red; }\n');
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await push('admin', { dryRun: true })).toEqual({ success: true, errors: [] });
    } finally {
      log.mockRestore();
    }
  });
});

describe('docker-push of a build context holding files git ignores', () => {
  /** What the push got to: the registry (here unreachable) once nothing in the context stops it. */
  const reachedTheRegistry = (errors: string[]) => errors.length === 1 && /127\.0\.0\.1:9/.test(errors[0]!);

  it('refuses a file the build would send but no commit holds (a .env.local beside the templates), in one line naming it and the ignore file', async () => {
    await writeFile(join(root, 'apps/nginx/templates/.env.local'), 'SMTP_PASSWORD=not-for-the-image\n');
    expect(await push('nginx')).toEqual({
      success: false,
      errors: ["nginx: not pushed: apps/nginx/templates/.env.local would go into this commit's image, yet git ignores it, so the commit does not hold it; delete it, or leave it out in apps/nginx/Dockerfile.dockerignore"],
    });
  });

  it('names the files of a directory git ignores as a whole, and pushes once the ignore file leaves them out', async () => {
    await mkdir(join(root, 'apps/nginx/templates/debug.log'), { recursive: true });
    await writeFile(join(root, 'apps/nginx/templates/debug.log/today'), 'request log\n');
    await writeFile(join(root, 'apps/nginx/templates/access.log'), 'request log\n');
    const refused = await push('nginx');
    expect(refused.errors).toEqual([
      "nginx: not pushed: apps/nginx/templates/access.log, apps/nginx/templates/debug.log/today would go into this commit's image, yet git ignores them, so the commit does not hold them; delete them, or leave them out in apps/nginx/Dockerfile.dockerignore",
    ]);
    await appendFile(join(root, 'apps/nginx/Dockerfile.dockerignore'), '**/*.log\n');
    await git('commit', '-qam', 'leave logs out of the image');
    const pushed = await push('nginx');
    expect(pushed.success).toBe(false);
    expect(reachedTheRegistry(pushed.errors)).toBe(true);
  });

  it('is not refused for a build output, which git ignores as a whole by design', async () => {
    await mkdir(join(root, 'dist/apps/api'), { recursive: true });
    await writeFile(join(root, 'dist/apps/api/main.js'), 'console.log(1);\n');
    const pushed = await push('api', { context: 'dist/apps/api' });
    expect(pushed.success).toBe(false);
    expect(reachedTheRegistry(pushed.errors)).toBe(true);
  });
});
