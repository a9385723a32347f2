/**
 * The libraries hold the logic and know nothing of Nx: the executors in tools/release-kit are thin
 * adapters over them. And no library imports one that imports it back, so each can be loaded, read
 * and tested on its own (the rule a shared-types module exists for).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const libsRoot = __dirname;
const workspaceRoot = join(libsRoot, '..');

/** `@changemaker/…` name → the libs/ folder its path mapping points into. */
const libraryFolders: Map<string, string> = new Map(
  Object.entries(JSON.parse(readFileSync(join(workspaceRoot, 'tsconfig.base.json'), 'utf8')).compilerOptions.paths as Record<string, string[]>)
    .filter(([, [target]]) => target!.startsWith('libs/'))
    .map(([name, [target]]) => [name, target!.split('/')[1]!]),
);

function sourceFilesOf(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)].map((match) => match[1]!);
}

const libraries = [...new Set(libraryFolders.values())];
const importsByLibrary = new Map(
  libraries.map((library) => [library, sourceFilesOf(join(libsRoot, library, 'src')).map((file) => ({ file: relative(workspaceRoot, file), imports: importsOf(file) }))]),
);

describe('library boundaries', () => {
  it('finds every library and its sources', () => {
    expect(libraries).toEqual(expect.arrayContaining(['oci', 'gitea', 'bundle', 'release-contract', 'release-flow', 'image-build']));
    for (const library of libraries) expect(importsByLibrary.get(library)!.length).toBeGreaterThan(0);
  });

  it('no library imports Nx', () => {
    const nxImports = [...importsByLibrary.values()].flat().flatMap(({ file, imports }) => imports.filter((name) => /^(nx|@nx\/)/.test(name)).map((name) => `${file}: ${name}`));
    expect(nxImports).toEqual([]);
  });

  it('no library imports tools/ or, outside specs and libs/testing, the test helpers', () => {
    const wrong = [...importsByLibrary.entries()].flatMap(([library, files]) =>
      files.flatMap(({ file, imports }) =>
        imports.filter((name) => name === '@changemaker/release-kit' || name.includes('/tools/') || (library !== 'testing' && name === '@changemaker/testing')).map((name) => `${file}: ${name}`),
      ),
    );
    expect(wrong).toEqual([]);
  });

  it('the libraries import each other without a cycle', () => {
    const dependsOn = new Map(
      libraries.map((library) => [
        library,
        new Set(importsByLibrary.get(library)!.flatMap(({ imports }) => imports.map((name) => libraryFolders.get(name)).filter((other): other is string => other !== undefined && other !== library))),
      ]),
    );
    const cycles: string[] = [];
    const visit = (library: string, path: string[]) => {
      if (path.includes(library)) {
        cycles.push([...path.slice(path.indexOf(library)), library].join(' → '));
        return;
      }
      for (const next of dependsOn.get(library) ?? []) visit(next, [...path, library]);
    };
    for (const library of libraries) visit(library, []);
    expect(cycles).toEqual([]);
  });
});
