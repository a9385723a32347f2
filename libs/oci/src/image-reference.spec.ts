import { ImageReference, registryPrefixProblem } from './image-reference';
import { InvalidReferenceError } from './oci-errors';

const digest = `sha256:${'a'.repeat(64)}`;

describe('ImageReference.parse', () => {
  it.each([
    ['alpine', 'docker.io', 'library/alpine', undefined, undefined],
    ['alpine:3', 'docker.io', 'library/alpine', '3', undefined],
    ['nocodb/nocodb:0.301.3', 'docker.io', 'nocodb/nocodb', '0.301.3', undefined],
    ['docker.io/alpine:3', 'docker.io', 'library/alpine', '3', undefined],
    ['index.docker.io/library/redis:7-alpine', 'docker.io', 'library/redis', '7-alpine', undefined],
    ['lscr.io/linuxserver/nginx:1.28.2', 'lscr.io', 'linuxserver/nginx', '1.28.2', undefined],
    ['127.0.0.1:5000/a/b/c:1.0', '127.0.0.1:5000', 'a/b/c', '1.0', undefined],
    ['localhost/app', 'localhost', 'app', undefined, undefined],
    ['localhost:5000/app@' + digest, 'localhost:5000', 'app', undefined, digest],
    ['[::1]:5000/app:v1@' + digest, '[::1]:5000', 'app', 'v1', digest],
    ['gitea.bnkops.com/admin/ls-nginx:1.28.2', 'gitea.bnkops.com', 'admin/ls-nginx', '1.28.2', undefined],
  ])('%s', (text, registry, repository, tag, pinned) => {
    const ref = ImageReference.parse(text);
    expect([ref.registry, ref.repository, ref.tag, ref.digest]).toEqual([registry, repository, tag, pinned]);
  });

  it('prints the normalised form and round-trips it', () => {
    const ref = ImageReference.parse('postgres:16-alpine');
    expect(ref.toString()).toBe('docker.io/library/postgres:16-alpine');
    expect(ImageReference.parse(ref.toString()).toString()).toBe(ref.toString());
  });

  it('addresses the digest when pinned, else the tag, else latest', () => {
    expect(ImageReference.parse('a:1').manifestReference).toBe('1');
    expect(ImageReference.parse(`a:1@${digest}`).manifestReference).toBe(digest);
    expect(ImageReference.parse('a').manifestReference).toBe('latest');
  });

  it('derives new references with another tag or digest', () => {
    const ref = ImageReference.parse('127.0.0.1:5000/app:1');
    expect(ref.withTag('2').toString()).toBe('127.0.0.1:5000/app:2');
    expect(ref.withDigest(digest).toString()).toBe(`127.0.0.1:5000/app:1@${digest}`);
    expect(() => ref.withTag('-bad')).toThrow(InvalidReferenceError);
  });

  it.each([
    ['', 'empty'],
    [' alpine', 'spaces'],
    ['Alpine', 'not a valid name component'],
    ['alpine:', 'not a valid tag'],
    ['alpine:.x', 'not a valid tag'],
    [`alpine:${'x'.repeat(129)}`, 'not a valid tag'],
    ['alpine@sha256:abc', 'not a sha256 digest'],
    ['alpine@@x', 'more than one'],
    ['a//b', 'not a valid name component'],
    ['a/-b', 'not a valid name component'],
    ['host..com/a', 'not a valid registry host'],
    ['127.0.0.1:5000/', 'no repository name'],
  ])('rejects %j (%s)', (text, reason) => {
    expect(() => ImageReference.parse(text)).toThrow(InvalidReferenceError);
    expect(() => ImageReference.parse(text)).toThrow(reason);
  });
});

describe('a reference that carries credentials', () => {
  it.each(['ci:s3cret.in-ref@ghcr.io/org/app:1', 'ci:s3cret.in-ref@127.0.0.1:5000/team/app', 'https://ci:s3cret.in-ref@ghcr.io/org/app:1', 's3cret.in-ref@ghcr.io/org/app'])(
    'refuses %s saying so, without repeating them in the message or the error',
    (text) => {
      const error = (() => {
        try {
          ImageReference.parse(text);
        } catch (thrown) {
          return thrown;
        }
        throw new Error('expected a refusal');
      })();
      expect(error).toBeInstanceOf(InvalidReferenceError);
      expect((error as Error).message).toContain('carries credentials (user:password@ before the host)');
      expect(JSON.stringify({ ...(error as object), message: (error as Error).message })).not.toContain('s3cret');
    },
  );

  it('still reads a digest after a name without a host', () => {
    expect(ImageReference.parse(`alpine@${digest}`).toString()).toBe(`docker.io/library/alpine@${digest}`);
  });
});

describe('registryPrefixProblem', () => {
  it.each(['127.0.0.1:5000/admin', 'gitea.example.org/admin', 'gitea.example.org', 'localhost:5000/team/sub', '[::1]:5000/admin'])('accepts %s', (prefix) => {
    expect(registryPrefixProblem(prefix, 'GITEA_REGISTRY')).toBeUndefined();
  });

  it.each([
    ['127.0.0.1:99999/admin', /^GITEA_REGISTRY "127\.0\.0\.1:99999\/admin" is not a registry host\[:port\]\[\/namespace\] \(port 99999 of "127\.0\.0\.1:99999" is not a TCP port \(1 to 65535\)\): set it like gitea\.example\.org\/admin/],
    ['https://gitea.example.org/admin', /"https:" is not a valid registry host\): .*with no scheme and no tag$/],
    ['admin', /\("admin" is not a registry host \(a host has a dot or a port, or is localhost\)\)/],
    ['127.0.0.1:5000/Admin', /^GITEA_REGISTRY "127\.0\.0\.1:5000\/Admin" has capitals after the host, which no image name may have; Gitea finds an owner by its name in lowercase too: set it to 127\.0\.0\.1:5000\/admin$/],
    ['127.0.0.1:5000/Admin/Bad Name', /"Admin" is not a valid name component/],
    ['gitea.example.org/admin:v1', /is not a registry host/],
  ])('refuses %s in one line naming the setting', (prefix, problem) => {
    const message = registryPrefixProblem(prefix, 'GITEA_REGISTRY');
    expect(message).toMatch(problem);
    expect(message?.split('\n')).toHaveLength(1);
  });

  it.each(['ci:s3cret-in-prefix@gitea.example.org/admin', 'ci@gitea.example.org', 'https://ci:s3cret-in-prefix@gitea.example.org/admin'])(
    'refuses credentials in %s without repeating them',
    (prefix) => {
      expect(registryPrefixProblem(prefix, 'GITEA_REGISTRY')).toBe(
        'GITEA_REGISTRY carries credentials (user:password@): remove them; the registry credentials go in GITEA_REGISTRY_USER and GITEA_REGISTRY_PASSWORD, or docker login.',
      );
    },
  );

  it('refuses a port out of range in any reference, which would otherwise fail later as an invalid URL', () => {
    expect(() => ImageReference.parse('127.0.0.1:0/a:1')).toThrow(/port 0 .* is not a TCP port/);
    expect(ImageReference.parse('127.0.0.1:65535/a:1').registry).toBe('127.0.0.1:65535');
  });
});
