import type { ExecutorContext } from '@nx/devkit';
import runExecutor, { productionStageIn } from './executor';
import type { DockerBuildPushOptions } from './schema';

const context = { root: '/nonexistent', cwd: '/nonexistent', isVerbose: false, projectName: 'api', targetName: 'docker-push', projectsConfigurations: { version: 2, projects: {} }, nxJsonConfiguration: {} } as unknown as ExecutorContext;

/** The executor's failure lines, with GITEA_REGISTRY set to `registry`. */
async function failureWith(registry: string, options: Partial<DockerBuildPushOptions> = {}): Promise<{ success: boolean; errors: string[] }> {
  const errors: string[] = [];
  const error = jest.spyOn(console, 'error').mockImplementation((line: unknown) => void errors.push(String(line)));
  const saved = process.env['GITEA_REGISTRY'];
  process.env['GITEA_REGISTRY'] = registry;
  try {
    const { success } = await runExecutor({ push: true, tags: ['{sha}'], ...options } as DockerBuildPushOptions, context);
    return { success, errors };
  } finally {
    if (saved === undefined) delete process.env['GITEA_REGISTRY'];
    else process.env['GITEA_REGISTRY'] = saved;
    error.mockRestore();
  }
}

describe('docker-build-push', () => {
  it.each([
    ['127.0.0.1:99999/admin', /port 99999 .* is not a TCP port/],
    ['http://127.0.0.1:5000/admin', /with no scheme/],
    ['127.0.0.1:5000/Admin', /"Admin" is not a valid name component/],
  ])('refuses GITEA_REGISTRY=%s in one line naming it, before anything else', async (registry, problem) => {
    const { success, errors } = await failureWith(registry);
    expect(success).toBe(false);
    expect(errors).toEqual([expect.stringMatching(new RegExp(`^api: GITEA_REGISTRY "${registry.replace(/[.:/]/g, '\\$&')}" is not a registry host`))]);
    expect(errors[0]).toMatch(problem);
  });

  it('names --registry when the option gave it', async () => {
    const { errors } = await failureWith('127.0.0.1:5000/admin', { registry: 'nohost' });
    expect(errors).toEqual([expect.stringMatching(/^api: --registry "nohost" is not a registry host/)]);
  });

  it('refuses --tag, --otp and --access outside nx release publish, which alone passes them: --tags gives image tags', async () => {
    const { success, errors } = await failureWith('127.0.0.1:5000/admin', { tag: 'v1.2.3' } as Partial<DockerBuildPushOptions>);
    expect(success).toBe(false);
    expect(errors).toEqual(["api: --tag is set by nx release publish and not used here; give an image's tags with --tags, e.g. --tags='{sha}' --tags=v1.2.3"]);
    const fromRelease = await failureWith('127.0.0.1:99999/admin', { tag: 'next', releaseVersionFile: 'docker/VERSION' } as Partial<DockerBuildPushOptions>);
    expect(fromRelease.errors).toEqual([expect.stringMatching(/GITEA_REGISTRY "127\.0\.0\.1:99999\/admin" is not a registry host/)]);
  });
});

describe('the production stage, built when no --target is given', () => {
  it.each([
    ['FROM node:20 AS production'],
    ['from node:20 as production'],
    ['FROM --platform=$BUILDPLATFORM node:20 AS production'],
    ['  FROM --platform=linux/amd64 node:20-bookworm-slim   AS   production  '],
    ['FROM --platform=${BUILDPLATFORM} node:20 AS production'],
  ])('is found in "%s"', (line) => {
    expect(productionStageIn(`FROM node:20 AS development\nRUN true\n${line}\nCMD ["node"]\n`)).toBe('production');
  });

  it.each([
    ['FROM node:20 AS development'],
    ['FROM --platform=$BUILDPLATFORM node:20 AS production-tools'],
    ['FROM node:20'],
    ['# FROM node:20 AS production'],
  ])('is not in a Dockerfile whose only stage line is "%s" (the last stage is built)', (line) => {
    expect(productionStageIn(`${line}\nCMD ["node"]\n`)).toBeUndefined();
  });
});
