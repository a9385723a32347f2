import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AmbiguousIgnorePatternError } from './errors';
import { inputsTagFor, type ImageInputs } from './inputs-hash';

describe('inputsTagFor', () => {
  let dir: string;
  let inputs: ImageInputs;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'inputs-hash-'));
    await mkdir(join(dir, 'context/assets'), { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY . /app\n');
    await writeFile(join(dir, 'context/main.js'), 'console.log(1)\n');
    await writeFile(join(dir, 'context/assets/logo.svg'), '<svg/>');
    inputs = { dockerfile: join(dir, 'Dockerfile'), context: join(dir, 'context'), buildArgs: { A: '1' }, platforms: [] };
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is a valid tag and stable for the same inputs', async () => {
    const tag = await inputsTagFor(inputs);
    expect(tag).toMatch(/^inputs-[0-9a-f]{64}$/);
    expect(await inputsTagFor({ ...inputs, buildArgs: { A: '1' } })).toBe(tag);
  });

  it('changes with every input that changes the image', async () => {
    const before = await inputsTagFor(inputs);
    const changed = [
      await inputsTagFor({ ...inputs, target: 'production' }),
      await inputsTagFor({ ...inputs, buildArgs: { A: '2' } }),
      await inputsTagFor({ ...inputs, platforms: ['linux/arm64'] }),
    ];
    await writeFile(join(dir, 'context/assets/logo.svg'), '<svg></svg>');
    changed.push(await inputsTagFor(inputs));
    await chmod(join(dir, 'context/main.js'), 0o755);
    changed.push(await inputsTagFor(inputs));
    await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY . /srv\n');
    changed.push(await inputsTagFor(inputs));
    expect(new Set([before, ...changed]).size).toBe(changed.length + 1);
  });

  it('does not depend on file times', async () => {
    const before = await inputsTagFor(inputs);
    await writeFile(join(dir, 'context/main.js'), 'console.log(1)\n');
    expect(await inputsTagFor(inputs)).toBe(before);
  });

  describe('the platform', () => {
    const realArch = process.arch;
    const onArchitecture = (arch: string) => Object.defineProperty(process, 'arch', { value: arch, configurable: true });
    afterEach(() => onArchitecture(realArch));

    it("hashes the engine's own platform when none is asked for: an arm64 laptop's inputs tag is not an amd64 runner's", async () => {
      onArchitecture('x64');
      const onAmd64 = await inputsTagFor(inputs);
      onArchitecture('arm64');
      const onArm64 = await inputsTagFor(inputs);
      expect(onArm64).not.toBe(onAmd64);
      // The engine's default is not an explicit list of one: the pushed image is a manifest, not a list.
      expect(await inputsTagFor({ ...inputs, platforms: ['linux/arm64'] })).not.toBe(onArm64);
    });

    it('spells each platform one way: linux/arm64/v8 is linux/arm64, and the order does not matter', async () => {
      const tag = await inputsTagFor({ ...inputs, platforms: ['linux/arm64', 'linux/amd64'] });
      expect(await inputsTagFor({ ...inputs, platforms: ['linux/amd64', 'linux/arm64/v8'] })).toBe(tag);
    });
  });

  it('hashes the permission bits of every file and directory: a context checked out under umask 077 is not one under 022', async () => {
    await chmod(join(dir, 'context/main.js'), 0o644);
    await chmod(join(dir, 'context/assets/logo.svg'), 0o644);
    await chmod(join(dir, 'context/assets'), 0o755);
    const umask022 = await inputsTagFor(inputs);
    await chmod(join(dir, 'context/main.js'), 0o600);
    const privateFile = await inputsTagFor(inputs);
    await chmod(join(dir, 'context/main.js'), 0o644);
    await chmod(join(dir, 'context/assets'), 0o700);
    const privateDirectory = await inputsTagFor(inputs);
    await chmod(join(dir, 'context/assets'), 0o755);
    expect(new Set([umask022, privateFile, privateDirectory]).size).toBe(3);
    expect(await inputsTagFor(inputs)).toBe(umask022);
  });

  describe('the ignore file', () => {
    const readme = () => writeFile(join(dir, 'context/README.md'), `# ${Math.random()}\n`);

    it("hashes the Dockerfile's own <Dockerfile>.dockerignore, which docker's BuildKit reads, and only the files it lets through", async () => {
      await readme();
      const without = await inputsTagFor(inputs);
      await writeFile(join(dir, 'Dockerfile.dockerignore'), '# docs are not served\n*.md\n');
      const ignoringDocs = await inputsTagFor(inputs);
      expect(ignoringDocs).not.toBe(without);
      // A README-only commit changes nothing the build sends.
      await readme();
      expect(await inputsTagFor(inputs)).toBe(ignoringDocs);
      await writeFile(join(dir, 'context/main.js'), 'console.log(2)\n');
      expect(await inputsTagFor(inputs)).not.toBe(ignoringDocs);
    });

    it("hashes the context's .dockerignore when the Dockerfile has none of its own, and the Dockerfile's own over it", async () => {
      await writeFile(join(dir, 'context/.dockerignore'), 'assets\n');
      const ignoringAssets = await inputsTagFor(inputs);
      await writeFile(join(dir, 'context/assets/logo.svg'), '<svg>changed</svg>');
      expect(await inputsTagFor(inputs)).toBe(ignoringAssets);
      await writeFile(join(dir, 'Dockerfile.dockerignore'), 'nothing-here\n');
      const own = await inputsTagFor(inputs);
      expect(own).not.toBe(ignoringAssets);
      await writeFile(join(dir, 'context/assets/logo.svg'), '<svg>changed again</svg>');
      expect(await inputsTagFor(inputs)).not.toBe(own);
    });

    it('follows docker\'s matching: ** across directories, a parent directory excluding its files, ! re-including, the last match winning', async () => {
      await mkdir(join(dir, 'context/docs/deep'), { recursive: true });
      await writeFile(join(dir, 'context/docs/deep/guide.md'), 'guide\n');
      await writeFile(join(dir, 'context/docs/deep/KEEP.md'), 'keep\n');
      await writeFile(join(dir, 'context/notes.tmp'), 'tmp\n');
      await writeFile(join(dir, 'Dockerfile.dockerignore'), '**/*.tmp\ndocs\n!docs/**/KEEP.md\n');
      const tag = await inputsTagFor(inputs);
      await writeFile(join(dir, 'context/notes.tmp'), 'other\n');
      await writeFile(join(dir, 'context/docs/deep/guide.md'), 'other guide\n');
      expect(await inputsTagFor(inputs)).toBe(tag);
      await writeFile(join(dir, 'context/docs/deep/KEEP.md'), 'kept, changed\n');
      expect(await inputsTagFor(inputs)).not.toBe(tag);
    });

    it('matches case-sensitively, as docker, buildah and podman do on Linux: README.md leaves readme.md in the context', async () => {
      await writeFile(join(dir, 'Dockerfile.dockerignore'), 'README.md\nBUILD\n');
      await mkdir(join(dir, 'context/build'));
      await writeFile(join(dir, 'context/build/out.js'), '1\n');
      await writeFile(join(dir, 'context/readme.md'), 'served\n');
      const tag = await inputsTagFor(inputs);
      await writeFile(join(dir, 'context/readme.md'), 'served, changed\n');
      const readmeChanged = await inputsTagFor(inputs);
      await writeFile(join(dir, 'context/build/out.js'), '2\n');
      expect(new Set([tag, readmeChanged, await inputsTagFor(inputs)]).size).toBe(3);
    });

    it('hashes the permission bits of a left-out directory that a ! pattern sends a file from, which the image holds', async () => {
      await mkdir(join(dir, 'context/docs/deep'), { recursive: true });
      await writeFile(join(dir, 'context/docs/deep/KEEP.md'), 'keep\n');
      await writeFile(join(dir, 'Dockerfile.dockerignore'), 'docs/**\n!docs/deep/KEEP.md\n');
      await chmod(join(dir, 'context/docs/deep'), 0o755);
      const tag = await inputsTagFor(inputs);
      await chmod(join(dir, 'context/docs/deep'), 0o700);
      expect(await inputsTagFor(inputs)).not.toBe(tag);
    });

    it.each([
      ['file(1).txt', '(', 'file\\(1\\).txt'],
      ['c++', '+', 'c\\+\\+'],
      ['logs/{a,b}', '{', 'logs/\\{a,b\\}'],
    ])('refuses %s, which engines read differently, naming the line and the escaped form, which it takes', async (pattern, character, escaped) => {
      await writeFile(join(dir, 'Dockerfile.dockerignore'), `# docs (and a comment may say anything)\n${pattern}\n`);
      const refusal = inputsTagFor(inputs);
      await expect(refusal).rejects.toThrow(AmbiguousIgnorePatternError);
      await expect(refusal).rejects.toThrow(`Dockerfile.dockerignore line 2: "${pattern}" has "${character}", which newer docker takes literally and older docker, buildah and podman as a regular expression, so engines would send different files: escape it as "\\${character}" (${escaped}).`);
      await writeFile(join(dir, 'Dockerfile.dockerignore'), `${escaped}\n`);
      expect(await inputsTagFor(inputs)).toMatch(/^inputs-/);
    });
  });
});

describe("the nginx image's inputs (its context is its project root)", () => {
  const nginx = join(__dirname, '../../../apps/nginx');
  let copy: string;
  beforeEach(async () => {
    copy = await mkdtemp(join(tmpdir(), 'inputs-hash-nginx-'));
    await cp(nginx, join(copy, 'nginx'), { recursive: true });
  });
  afterEach(() => rm(copy, { recursive: true, force: true }));

  const tagOf = () => inputsTagFor({ dockerfile: join(copy, 'nginx/Dockerfile'), context: join(copy, 'nginx'), target: 'production', buildArgs: {}, platforms: [] });

  it('stay the same when only its README or project.json changes, which the image never holds', async () => {
    const before = await tagOf();
    await writeFile(join(copy, 'nginx/README.md'), 'edited\n', { flag: 'a' });
    await writeFile(join(copy, 'nginx/project.json'), '\n', { flag: 'a' });
    expect(await tagOf()).toBe(before);
    await writeFile(join(copy, 'nginx/templates/default.conf.template'), '# edited\n', { flag: 'a' });
    expect(await tagOf()).not.toBe(before);
  });
});
