import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createReleaseRepository, type ReleaseRepository } from '@changemaker/testing';
import { someFilesOf, uncommittedFiles } from './git-command';

describe('uncommittedFiles', () => {
  let repository: ReleaseRepository;

  beforeEach(async () => {
    repository = await createReleaseRepository({ files: { '.gitignore': 'dist/\n', 'notes.md': 'notes\n', 'old name.txt': 'renamed\n' } });
  });
  afterEach(() => repository.remove());

  it('names every changed file as it is, once: edited, deleted, renamed (by its new name), untracked with spaces or accents; not ignored ones', async () => {
    const { work, git } = repository;
    expect(await uncommittedFiles(work)).toEqual([]);
    await writeFile(join(work, 'VERSION'), 'v1.1.0\n');
    await rm(join(work, 'notes.md'));
    await git(work, 'mv', 'old name.txt', 'new name.txt');
    await mkdir(join(work, 'apps/api'), { recursive: true });
    await writeFile(join(work, 'apps/api/café menu.ts'), 'export {};\n');
    await mkdir(join(work, 'dist'));
    await writeFile(join(work, 'dist/out.js'), 'built\n');
    expect((await uncommittedFiles(work))?.sort()).toEqual(['VERSION', 'apps/api/café menu.ts', 'new name.txt', 'notes.md']);
    expect(await uncommittedFiles(work, ['apps'])).toEqual(['apps/api/café menu.ts']);
  });

  it('is undefined where git cannot tell', async () => {
    expect(await uncommittedFiles(join(repository.dir, 'nowhere'))).toBeUndefined();
  });
});

describe('someFilesOf', () => {
  it('names up to three files, then how many more', () => {
    expect(someFilesOf(['a'])).toBe('a');
    expect(someFilesOf(['a', 'b', 'c'])).toBe('a, b, c');
    expect(someFilesOf(['a', 'b', 'c', 'd', 'e'])).toBe('a, b, c and 2 more');
  });
});
