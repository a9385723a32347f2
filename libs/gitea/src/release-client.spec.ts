import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGiteaServer, startUntrustedTlsServer, type TestGiteaServer } from '@changemaker/testing';
import {
  AttachmentTooLargeError,
  AttachmentTypeRefusedError,
  GiteaCertificateError,
  GiteaRedirectError,
  InvalidSettingError,
  NotGiteaAnswerError,
  PermissionDeniedError,
  ProxyAnswerError,
  giteaUrlProblem,
  ReleaseClient,
  ReleaseConflictError,
  RepositoryNotFoundError,
  UnknownTokenError,
  type RetryNotice,
} from './index';

const token = 'tok-7f3a9c1e5b2d4680';
const fastRetries = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 };

describe('ReleaseClient against the contract-following Gitea test server', () => {
  let gitea: TestGiteaServer;
  let dir: string;
  let client: ReleaseClient;
  let retries: RetryNotice[];

  beforeEach(async () => {
    gitea = await startGiteaServer({
      tokens: { [token]: { login: 'ci', canWrite: true }, 'read-only-token': { login: 'viewer', canWrite: false } },
      attachmentMaxSize: 64 * 1024,
      maxPageSize: 3,
    });
    dir = await mkdtemp(join(tmpdir(), 'gitea-client-'));
    retries = [];
    client = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token, retry: fastRetries, onRetry: (n) => retries.push(n) });
  });

  afterEach(async () => {
    expect(gitea.violations()).toEqual([]);
    for (const request of gitea.requests()) expect(request.url).not.toContain(token);
    await gitea.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a draft, streams an asset, renames it, publishes, and sends the token only as a header', async () => {
    const file = join(dir, 'bundle.tar.gz');
    await writeFile(file, Buffer.alloc(40_000, 7));
    const draft = await client.createRelease({ tag_name: 'v1.0.0', draft: true });
    const asset = await client.uploadAsset(draft.id, 'tmp-bundle.tar.gz', { path: file, size: 40_000 });
    expect(asset.size).toBe(40_000);
    expect((await client.renameAsset(draft.id, asset.id, 'bundle.tar.gz')).name).toBe('bundle.tar.gz');
    expect(await client.downloadAsset(asset)).toEqual(Buffer.alloc(40_000, 7));
    const published = await client.editRelease(draft.id, { draft: false, body: 'notes' });
    expect(published.draft).toBe(false);
    expect(await client.getReleaseByTag('v1.0.0')).toMatchObject({ id: draft.id, body: 'notes' });
    expect(gitea.requests().every((r) => r.authorization === `token ${token}`)).toBe(true);
  });

  it('lists every release, drafts included, page by page by following Link headers', async () => {
    gitea.addRelease({ tagName: 'v0.9.0', draft: true, author: 'ci' });
    for (let i = 0; i < 7; i += 1) gitea.addRelease({ tagName: `v0.0.${i}` });
    const all = [];
    for await (const release of client.listReleases()) all.push(release.tag_name);
    expect(all.sort()).toEqual(['v0.0.0', 'v0.0.1', 'v0.0.2', 'v0.0.3', 'v0.0.4', 'v0.0.5', 'v0.0.6', 'v0.9.0']);
    expect(gitea.requests().filter((r) => r.url.includes('/releases?')).length).toBe(3);
    expect((await client.findReleaseByTag('v0.9.0'))?.draft).toBe(true);
  });

  it('hides drafts from a token without write access', async () => {
    gitea.addRelease({ tagName: 'v2.0.0', draft: true });
    const viewer = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token: 'read-only-token', retry: fastRetries });
    expect(await viewer.findReleaseByTag('v2.0.0')).toBeUndefined();
    expect(await client.findReleaseByTag('v2.0.0')).toBeDefined();
  });

  it('asks whether the token may write releases without changing any: a writer passes, a reader is refused', async () => {
    gitea.addRelease({ tagName: 'v1.0.0' });
    const before = JSON.stringify(gitea.releases());
    await expect(client.checkReleaseWriteAccess()).resolves.toBeUndefined();
    const viewer = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token: 'read-only-token', retry: fastRetries });
    await expect(viewer.checkReleaseWriteAccess()).rejects.toThrow(PermissionDeniedError);
    expect(JSON.stringify(gitea.releases())).toBe(before);
  });

  it('deletes a release, its files with it; deleting it again is harmless; a reader is refused', async () => {
    const draft = await client.createRelease({ tag_name: 'v3.0.0', draft: true, name: 'v3.0.0', body: '' });
    await client.uploadAsset(draft.id, 'SHA256SUMS', { text: 'x  y\n' });
    const viewer = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token: 'read-only-token', retry: fastRetries });
    await expect(viewer.deleteRelease(draft.id)).rejects.toThrow(PermissionDeniedError);
    await client.deleteRelease(draft.id);
    expect(await client.findReleaseByTag('v3.0.0')).toBeUndefined();
    await expect(client.deleteRelease(draft.id)).resolves.toBeUndefined();
  });

  it('retries 500, 429 and a dropped upload connection, then succeeds', async () => {
    const file = join(dir, 'a.bin');
    await writeFile(file, Buffer.alloc(10_000, 1));
    gitea.faults.answerNext('POST', 500);
    gitea.faults.answerNext('POST', 429);
    const draft = await client.createRelease({ tag_name: 'v1.0.1', draft: true });
    gitea.faults.dropConnectionDuringUpload(1);
    await client.uploadAsset(draft.id, 'a.bin', { path: file, size: 10_000 });
    expect(await client.listAssets(draft.id)).toHaveLength(1);
    expect(retries.map((r) => r.reason)).toEqual(['status 500', 'status 429', expect.any(String)]);
  });

  it('explains 401, 403, 404, 409 and 413 as typed errors', async () => {
    const stranger = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token: 'local-instance-token', retry: fastRetries });
    await expect(stranger.getReleaseByTag('v1')).rejects.toThrow(UnknownTokenError);
    await expect(stranger.getReleaseByTag('v1')).rejects.toThrow(/GITEA_REGISTRY_API_TOKEN.*not GITEA_API_TOKEN/);
    const viewer = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token: 'read-only-token', retry: fastRetries });
    await expect(viewer.createRelease({ tag_name: 'v1' })).rejects.toThrow(PermissionDeniedError);
    const lost = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/no-such-repo', token, retry: fastRetries });
    await expect(lost.findReleaseByTag('v1')).rejects.toThrow(RepositoryNotFoundError);
    await client.createRelease({ tag_name: 'v1' });
    await expect(client.createRelease({ tag_name: 'v1' })).rejects.toThrow(ReleaseConflictError);
    const big = join(dir, 'big.bin');
    await writeFile(big, Buffer.alloc(70 * 1024));
    const release = await client.findReleaseByTag('v1');
    await expect(client.uploadAsset(release!.id, 'big.bin', { path: big, size: 70 * 1024 })).rejects.toThrow(/FILE_MAX_SIZE.*client_max_body_size/);
    await expect(client.uploadAsset(release!.id, 'big.bin', { path: big, size: 70 * 1024 })).rejects.toThrow(AttachmentTooLargeError);
  });

  it("explains in one line a proxy's HTML error page (nginx 502 while Gitea is down), after retrying it", async () => {
    gitea.faults.answerNextFromProxy('POST', 502, fastRetries.attempts);
    const failure = client.createRelease({ tag_name: 'v2.0.0', draft: true });
    await expect(failure).rejects.toThrow(/^POST \/api\/v1\/repos\/admin\/changemaker\.lite\/releases failed with 502: "502 Bad Gateway", an HTML page from a proxy in front of Gitea, not Gitea's API: check that Gitea is running behind it, then re-run\.$/);
    await expect(failure).rejects.not.toThrow(/[<\n]/);
    expect(retries).toHaveLength(fastRetries.attempts - 1);
    expect(gitea.releases()).toEqual([]);
  });

  it("does not blame the token for a proxy's HTML 403: its rules refused the call, not Gitea", async () => {
    gitea.faults.answerNextFromProxy('POST', 403);
    const failure = client.createRelease({ tag_name: 'v2.0.0', draft: true });
    await expect(failure).rejects.toThrow(ProxyAnswerError);
    await expect(failure).rejects.toThrow(/failed with 403: "403 Forbidden", an HTML page from a proxy in front of Gitea, not Gitea's API: check the proxy's rules for \/api\/v1\/ and that GITEA_URL is Gitea's web root, then re-run\.$/);
  });

  it("says a proxy's HTML 429 that outlasts the retries is its rate limit", async () => {
    gitea.faults.answerNextFromProxy('GET', 429, fastRetries.attempts);
    const failure = client.listAssets(1);
    await expect(failure).rejects.toThrow(/failed with 429: "429 Too Many Requests", an HTML page from a proxy in front of Gitea, not Gitea's API: it limits the request rate \(nginx limit_req\): raise its limit for \/api\/v1\/ or re-run later\.$/);
    expect(retries).toHaveLength(fastRetries.attempts - 1);
  });

  it("says in one line that a 200 page which is not Gitea's JSON (a proxy's sign-in page) is not Gitea's API", async () => {
    gitea.faults.answerNextFromProxy('GET', 200);
    const failure = client.getReleaseByTag('v1.0.0');
    await expect(failure).rejects.toThrow(NotGiteaAnswerError);
    await expect(failure).rejects.toThrow(/^GET \/api\/v1\/repos\/admin\/changemaker\.lite\/releases\/tags\/v1\.0\.0 answered 200 with "Sign In", an HTML page, not Gitea's JSON: .*GITEA_URL.*$/);
    await expect(failure).rejects.not.toThrow(/[<\n]/);
  });

  it('says GITEA_URL redirects elsewhere (a proxy sending http to https) instead of reading on there without the token', async () => {
    gitea.addRelease({ tagName: 'v3.0.0', draft: true, author: 'ci' });
    gitea.faults.answerNextFromProxy('GET', 301);
    const failure = client.findReleaseByTag('v3.0.0');
    await expect(failure).rejects.toThrow(GiteaRedirectError);
    const origin = new URL(gitea.url).host;
    await expect(failure).rejects.toThrow(`${gitea.url} redirects Gitea's API to https://${origin} (301): set GITEA_URL to https://${origin}, where Gitea answers; the token is never sent on to another address.`);
    expect(gitea.requests()).toHaveLength(1);
  });

  it('says the repository was renamed or moved when Gitea redirects its API calls to the new name, before creating anything', async () => {
    const moved = await startGiteaServer({ tokens: { [token]: { login: 'ci', canWrite: true } }, owner: 'team', repo: 'product', formerNames: ['admin/changemaker.lite'] });
    try {
      const stale = new ReleaseClient({ giteaUrl: moved.url, repo: 'admin/changemaker.lite', token, retry: fastRetries });
      const failure = stale.createRelease({ tag_name: 'v1.0.0', draft: true });
      await expect(failure).rejects.toThrow(GiteaRedirectError);
      await expect(failure).rejects.toThrow('Gitea says admin/changemaker.lite was renamed or moved to team/product (307): set GITEA_REPO to team/product.');
      await expect(stale.getReleaseByTag('v1.0.0')).rejects.toThrow(/set GITEA_REPO to team\/product\.$/);
      expect(moved.releases()).toEqual([]);
      expect(moved.violations()).toEqual([]);
    } finally {
      await moved.stop();
    }
  });

  it('asks GITEA_URL for a download URL that names the server differently, never the other host', async () => {
    const file = join(dir, 'a.bin');
    await writeFile(file, 'payload');
    const release = await client.createRelease({ tag_name: 'v3.0.0', draft: true });
    const asset = await client.uploadAsset(release.id, 'a.bin', { path: file, size: 7 });
    const renamed = { ...asset, browser_download_url: asset.browser_download_url.replace(gitea.url, 'http://127.0.0.2:9') };
    expect((await client.downloadAsset(renamed)).toString()).toBe('payload');
    // Without a uuid, browser_download_url's path is asked of GITEA_URL.
    expect((await client.downloadAsset({ ...renamed, uuid: undefined })).toString()).toBe('payload');
    expect(gitea.requests().filter((r) => r.method === 'GET').map((r) => r.url)).toEqual([`/attachments/${asset.uuid}`, `/attachments/${asset.uuid}`]);
  });
});

describe('ReleaseClient against Gitea before #36659 and older Forgejo, whose tag look-up shows drafts to every reader', () => {
  it('finds the draft with one request and without listing, as a writer and as anyone', async () => {
    const gitea = await startGiteaServer({ tokens: { [token]: { login: 'ci', canWrite: true } }, draftsByTag: 'everyone' });
    try {
      gitea.addRelease({ tagName: 'v5.0.0', draft: true });
      const client = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token, retry: fastRetries });
      expect((await client.findReleaseByTag('v5.0.0'))?.draft).toBe(true);
      expect(gitea.requests().map((r) => r.url)).toEqual(['/api/v1/repos/admin/changemaker.lite/releases/tags/v5.0.0']);
      const anonymous = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', retry: fastRetries });
      expect((await anonymous.findReleaseByTag('v5.0.0'))?.draft).toBe(true);
      expect(gitea.violations()).toEqual([]);
    } finally {
      await gitea.stop();
    }
  });
});

describe('ReleaseClient against Gitea 1.20, which reads no token at /{owner}/{repo}/releases/download/', () => {
  it("downloads a private repository's listed assets, a draft's included, by /attachments/<uuid>, where every Gitea reads the token", async () => {
    const gitea = await startGiteaServer({ tokens: { [token]: { login: 'ci', canWrite: true } }, privateRepo: true, tokenlessDownloadByName: true });
    try {
      const client = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token, retry: fastRetries });
      const draft = await client.createRelease({ tag_name: 'v1.0.0', draft: true });
      await client.uploadAsset(draft.id, 'SHA256SUMS', { text: 'sums\n' });
      const [listed] = await client.listAssets(draft.id);
      expect(listed!.browser_download_url).toContain('/releases/download/v1.0.0/SHA256SUMS');
      expect((await client.downloadAsset(listed!)).toString()).toBe('sums\n');
      expect(gitea.violations()).toEqual([]);
    } finally {
      await gitea.stop();
    }
  });
});

describe('ReleaseClient refusals', () => {
  it('explains an upload refused by ALLOWED_TYPES (400)', async () => {
    const gitea = await startGiteaServer({ tokens: { [token]: { login: 'ci', canWrite: true } }, allowedTypes: ['.gz'] });
    const dir = await mkdtemp(join(tmpdir(), 'gitea-client-'));
    try {
      const client = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token, retry: fastRetries });
      await writeFile(join(dir, 'SHA256SUMS'), 'sums');
      const release = await client.createRelease({ tag_name: 'v1.0.0', draft: true });
      await expect(client.uploadAsset(release.id, 'SHA256SUMS', { path: join(dir, 'SHA256SUMS'), size: 4 })).rejects.toThrow(/text\/plain.*ALLOWED_TYPES.*needs text\/plain/);
      expect(gitea.violations()).toEqual([]);
    } finally {
      await gitea.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('uploads under the allow-list its refusal advises: the extension, or the type Gitea sniffs', async () => {
    const gitea = await startGiteaServer({ tokens: { [token]: { login: 'ci', canWrite: true } }, allowedTypes: ['.gz', 'text/plain'] });
    const dir = await mkdtemp(join(tmpdir(), 'gitea-client-'));
    try {
      const client = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token, retry: fastRetries });
      await writeFile(join(dir, 'SHA256SUMS'), 'sums\n');
      await writeFile(join(dir, 'a.bin'), Buffer.from([0, 1, 2, 3]));
      const release = await client.createRelease({ tag_name: 'v1.0.0', draft: true });
      await expect(client.uploadAsset(release.id, 'SHA256SUMS', { path: join(dir, 'SHA256SUMS'), size: 5 })).resolves.toMatchObject({ name: 'SHA256SUMS' });
      await expect(client.uploadAsset(release.id, 'a.bin', { path: join(dir, 'a.bin'), size: 4 })).rejects.toThrow(/application\/octet-stream/);
      expect(gitea.violations()).toEqual([]);
    } finally {
      await gitea.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('explains a rename refused by ALLOWED_TYPES (422): Gitea checks the new name alone, which sniffs as text/plain', async () => {
    const gitea = await startGiteaServer({ tokens: { [token]: { login: 'ci', canWrite: true } }, allowedTypes: ['application/x-gzip'] });
    const dir = await mkdtemp(join(tmpdir(), 'gitea-client-'));
    try {
      const client = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token, retry: fastRetries });
      await writeFile(join(dir, 'a.tar.gz'), Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0]));
      const release = await client.createRelease({ tag_name: 'v1.0.0', draft: true });
      const uploaded = await client.uploadAsset(release.id, 'publishing-1-a.tar.gz', { path: join(dir, 'a.tar.gz'), size: 8 });
      const refused = client.renameAsset(release.id, uploaded.id, 'a.tar.gz');
      await expect(refused).rejects.toThrow(AttachmentTypeRefusedError);
      await expect(client.renameAsset(release.id, uploaded.id, 'a.tar.gz')).rejects.toThrow(/^Gitea refused a\.tar\.gz \(422: .*text\/plain/);
      expect(gitea.violations()).toEqual([]);
    } finally {
      await gitea.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a GITEA_REPO that is not owner/name and a GITEA_URL that is not http(s)', () => {
    expect(() => new ReleaseClient({ giteaUrl: 'http://127.0.0.1:1', repo: 'changemaker.lite' })).toThrow(/GITEA_REPO "changemaker.lite" is not owner\/name/);
    expect(() => new ReleaseClient({ giteaUrl: 'gitea.bnkops.com', repo: 'admin/x' })).toThrow(InvalidSettingError);
    const withCredentials = () => new ReleaseClient({ giteaUrl: 'http://ci:s3cret-in-url@127.0.0.1:1', repo: 'admin/x' });
    expect(withCredentials).toThrow(/carries credentials/);
    expect(withCredentials).not.toThrow(/s3cret-in-url/);
  });

  it.each(['http://127.0.0.1:1/?token=s3cret-in-query', 'http://127.0.0.1:1#access_token=s3cret-in-query', '127.0.0.1:1?token=s3cret-in-query'])(
    'refuses a GITEA_URL with a query or fragment (%s) without repeating it: it may carry a token',
    (giteaUrl) => {
      const message = giteaUrlProblem(giteaUrl);
      expect(message).toBe('GITEA_URL has a query or fragment: set it to the Gitea web root, like https://gitea.example.com, and put the token in GITEA_REGISTRY_API_TOKEN.');
    },
  );

  it('refuses a GITEA_URL with whitespace in one line, instead of a bare "Invalid URL" at the first request', () => {
    expect(giteaUrlProblem('http://127.0.0.1:1 ')).toBe('GITEA_URL "http://127.0.0.1:1 " contains whitespace: set it like https://gitea.example.com, with nothing around it.');
  });
});

describe('ReleaseClient with object storage and without Link headers', () => {
  it('follows a download redirect to another origin without the token, and pages by X-Total-Count', async () => {
    const gitea = await startGiteaServer({ tokens: { [token]: { login: 'ci', canWrite: true } }, serveDownloadsDirect: true, omitLinkHeaders: true, maxPageSize: 2 });
    const dir = await mkdtemp(join(tmpdir(), 'gitea-client-'));
    try {
      const client = new ReleaseClient({ giteaUrl: gitea.url, repo: 'admin/changemaker.lite', token, retry: fastRetries });
      const file = join(dir, 'a.bin');
      await writeFile(file, 'stored in object storage');
      const release = await client.createRelease({ tag_name: 'v1.0.0', draft: true });
      const asset = await client.uploadAsset(release.id, 'a.bin', { path: file, size: 24 });
      expect((await client.downloadAsset(asset)).toString()).toBe('stored in object storage');
      expect(gitea.storageRequests()).toHaveLength(1);
      expect(gitea.storageRequests()[0]!.authorization).toBeUndefined();
      for (let i = 0; i < 4; i += 1) gitea.addRelease({ tagName: `v0.${i}.0` });
      const tags: string[] = [];
      for await (const found of client.listReleases()) tags.push(found.tag_name);
      expect(tags.sort()).toEqual(['v0.0.0', 'v0.1.0', 'v0.2.0', 'v0.3.0', 'v1.0.0']);
      expect(gitea.violations()).toEqual([]);
    } finally {
      await gitea.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a Gitea whose TLS certificate is not trusted here (a private CA)', () => {
  it('fails at the first try, without the token in the message, saying that NODE_EXTRA_CA_CERTS is how Node trusts that CA', async () => {
    const server = await startUntrustedTlsServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('[]'));
    const retries: RetryNotice[] = [];
    try {
      const client = new ReleaseClient({ giteaUrl: server.url, repo: 'admin/changemaker.lite', token, retry: fastRetries, onRetry: (notice) => retries.push(notice) });
      const failure = await client.getReleaseByTag('v1.0.0').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(GiteaCertificateError);
      expect((failure as Error).message).toBe(
        `GET /api/v1/repos/admin/changemaker.lite/releases/tags/v1.0.0: the TLS certificate of ${new URL(server.url).host} is not trusted (self-signed certificate); ` +
          "Node trusts its own list of CAs, not the system's: for a server whose certificate comes from a private CA, set NODE_EXTRA_CA_CERTS to that CA's certificate (a PEM file), then re-run.",
      );
      expect({ retries, connections: server.connections() }).toEqual({ retries: [], connections: 1 });
    } finally {
      await server.stop();
    }
  });
});
