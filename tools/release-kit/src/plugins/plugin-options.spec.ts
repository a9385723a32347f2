import { imageTargetNamesOf, normalizeOptions, pluginOptionsProblemIn, refusedForPluginOptions, type DockerTargetsOptions } from './plugin-options';

const where = "nx.json's options for the @changemaker/release-kit plugin";

/** The refusal of nx.json's entry for this plugin with these options. */
function refusalOf(options: unknown): string | undefined {
  return pluginOptionsProblemIn({ plugins: ['@nx/js/typescript', { plugin: './tools/release-kit/plugin.js', options }] });
}

describe("the plugin's options in nx.json", () => {
  it("are taken as the workspace's nx.json gives them, and defaulted when left out", () => {
    expect(normalizeOptions(undefined)).toEqual({
      buildTargetName: 'docker-build',
      pushTargetName: 'docker-push',
      registry: undefined,
      cacheRepository: undefined,
      imageName: 'changemaker-{projectName}',
      tags: ['{sha}', 'latest'],
      engine: 'auto',
      onDemandTag: 'docker:on-demand',
    });
    const options: DockerTargetsOptions = {
      buildTargetName: 'image',
      pushTargetName: 'image-push',
      registry: '127.0.0.1:5000/acme',
      imageName: 'acme/{projectName}',
      tags: ['{sha}'],
      engine: 'buildah',
      cacheRepository: 'cache',
      onDemandTag: 'heavy',
    };
    expect(normalizeOptions(options)).toEqual(options);
  });

  it("refuse a key the plugin does not know (a misspelt registry would send the images to GITEA_REGISTRY; an image target's option here would be dropped), naming its keys and where image options go", () => {
    expect(refusalOf({ imageName: 'acme/{projectName}', regsitry: '127.0.0.1:5000/acme' })).toBe(
      `${where} have "regsitry", which is none of its own (buildTargetName, pushTargetName, registry, imageName, tags, engine, cacheRepository, onDemandTag): correct or remove it; an option of the image targets (platforms, buildArgs, …) goes in nx.json's targetDefaults["./tools/release-kit/executors:docker-build-push"].options, which docker-build, docker-push and nx-release-publish all take`,
    );
    expect(refusalOf({ platforms: ['linux/amd64', 'linux/arm64'] })).toContain('have "platforms", which is none of its own');
    // Once an option: nx release publish runs only targets named nx-release-publish.
    expect(refusalOf({ releasePublishTargetName: 'publish-images' })).toContain('have "releasePublishTargetName", which is none of its own');
  });

  it('refuse a value of the wrong kind, quoting it and saying what it must be', () => {
    expect(refusalOf({ tags: 'latest' })).toBe(`${where} give tags as "latest": it must be a list of tag patterns, e.g. ["{sha}", "latest"]`);
    expect(refusalOf({ tags: [] })).toBe(`${where} give tags as []: it must be a list of tag patterns, e.g. ["{sha}", "latest"]`);
    expect(refusalOf({ tags: ['{sha}', ''] })).toContain('give tags as ["{sha}",""]');
    expect(refusalOf({ engine: 'dockr' })).toBe(`${where} give engine as "dockr": it must be one of auto, docker, podman, buildah`);
    expect(refusalOf({ imageName: '' })).toBe(`${where} give imageName as "": it must be a non-empty string`);
    expect(refusalOf({ registry: 5000 })).toBe(`${where} give registry as 5000: it must be a non-empty string`);
    expect(refusalOf(['imageName'])).toBe(`${where} are not an object: give them as { "imageName": …, "tags": […] }, or leave them out`);
  });

  it("refuse target names that would clash: one name for both image targets, or a name Nx or the release already gives a target", () => {
    expect(refusalOf({ buildTargetName: 'image', pushTargetName: 'image' })).toBe(`${where} give buildTargetName and pushTargetName the same name, "image": give them two names`);
    expect(refusalOf({ pushTargetName: 'docker-build' })).toContain('the same name, "docker-build"');
    expect(refusalOf({ buildTargetName: 'build' })).toBe(`${where} give buildTargetName as "build", a target the image tasks run first or the release needs: choose another name`);
    expect(refusalOf({ pushTargetName: 'nx-release-publish' })).toContain('give pushTargetName as "nx-release-publish"');
    expect(refusalOf({ pushTargetName: 'abandon-release' })).toContain('give pushTargetName as "abandon-release"');
  });

  it("are found in each of the plugin's entries, by the names nx.json may load it by, and no other plugin's", () => {
    const unknown = { regsitry: 'x' };
    expect(pluginOptionsProblemIn(undefined)).toBeUndefined();
    expect(pluginOptionsProblemIn({ plugins: ['./tools/release-kit/plugin.js', { plugin: '@nx/js/typescript', options: unknown }] })).toBeUndefined();
    for (const plugin of ['./tools/release-kit/plugin.js', 'tools/release-kit/plugin', '@changemaker/release-kit']) {
      expect(pluginOptionsProblemIn({ plugins: [{ plugin, options: { imageName: 'a/{projectName}' } }, { plugin, options: unknown }] })).toContain('"regsitry"');
    }
  });

  it('give way to the defaults, whole, when unusable: the graph stays whole, and the tasks refuse to run, saying why', () => {
    const unusable = { buildTargetName: 'image', registry: '127.0.0.1:5000/acme', regsitry: 'x' } as DockerTargetsOptions;
    expect(normalizeOptions(unusable)).toEqual(normalizeOptions(undefined));
    expect(imageTargetNamesOf(unusable)).toEqual(['docker-build', 'docker-push', 'nx-release-publish']);
    expect(imageTargetNamesOf({ buildTargetName: 'image' })).toEqual(['image', 'docker-push', 'nx-release-publish']);
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const nxJsonConfiguration = { plugins: [{ plugin: './tools/release-kit/plugin.js', options: unusable }] };
      expect(refusedForPluginOptions({ projectName: 'api', nxJsonConfiguration })).toBe(true);
      expect(errors.mock.calls).toEqual([[expect.stringMatching(/^api: nothing was run: nx\.json's options for the @changemaker\/release-kit plugin have "regsitry"/)]]);
      expect(refusedForPluginOptions({ projectName: 'api', nxJsonConfiguration: { plugins: [{ plugin: './tools/release-kit/plugin.js', options: { buildTargetName: 'image' } }] } })).toBe(false);
      expect(errors).toHaveBeenCalledTimes(1);
    } finally {
      errors.mockRestore();
    }
  });
});
