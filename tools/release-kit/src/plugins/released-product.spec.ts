import { productOf } from './released-product';

const docker = { file: 'docker/VERSION', project: 'docker' };
const docs = { file: 'apps/docs/VERSION', project: 'docs' };

describe("the released product's VERSION file", () => {
  it('is the only VERSION file in a project, whatever nx.json says', () => {
    expect(productOf([docker], undefined)).toBe(docker);
    expect(productOf([], { projects: ['docker'] })).toBeUndefined();
  });

  it("of several, is the one whose project nx.json's release names, in release.projects or a release group", () => {
    expect(productOf([docs, docker], { projects: ['docker'] })).toBe(docker);
    expect(productOf([docs, docker], { projects: 'docker' })).toBe(docker);
    expect(productOf([docs, docker], { groups: { product: { projects: ['docker'] } } })).toBe(docker);
  });

  it('of several, is none when nx.json names none of them by name, or more than one: nx release then refuses before writing anything', () => {
    expect(productOf([docs, docker], undefined)).toBeUndefined();
    expect(productOf([docs, docker], { projects: ['tag:product'] })).toBeUndefined();
    expect(productOf([docs, docker], { projects: ['docker', 'docs'] })).toBeUndefined();
  });
});
