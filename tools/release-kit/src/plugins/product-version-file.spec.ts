import { productVersionFileOf } from './product-version-file';

const docker = { file: 'docker/VERSION', project: 'docker' };
const docs = { file: 'apps/docs/VERSION', project: 'docs' };

describe("the released product's VERSION file", () => {
  it('is the only VERSION file in a project, whatever nx.json says', () => {
    expect(productVersionFileOf([docker], undefined)).toBe('docker/VERSION');
    expect(productVersionFileOf([], { projects: ['docker'] })).toBeUndefined();
  });

  it("of several, is the one whose project nx.json's release names, in release.projects or a release group", () => {
    expect(productVersionFileOf([docs, docker], { projects: ['docker'] })).toBe('docker/VERSION');
    expect(productVersionFileOf([docs, docker], { projects: 'docker' })).toBe('docker/VERSION');
    expect(productVersionFileOf([docs, docker], { groups: { product: { projects: ['docker'] } } })).toBe('docker/VERSION');
  });

  it('of several, is none when nx.json names none of them by name, or more than one: nx release then refuses before writing anything', () => {
    expect(productVersionFileOf([docs, docker], undefined)).toBeUndefined();
    expect(productVersionFileOf([docs, docker], { projects: ['tag:product'] })).toBeUndefined();
    expect(productVersionFileOf([docs, docker], { projects: ['docker', 'docs'] })).toBeUndefined();
  });
});
