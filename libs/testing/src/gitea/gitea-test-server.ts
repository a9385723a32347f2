import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { GiteaContract, unknownTokenMessage, type ContractViolation } from './gitea-contract';
import { GiteaFaults } from './gitea-faults';

/**
 * An in-memory Gitea that answers the releases API as gitea-releases-swagger.json describes, on
 * 127.0.0.1. Every answer is checked against the contract; tests assert `violations()` is empty.
 */
export interface GiteaTokenGrant {
  login: string;
  /** write:repository, or only read. */
  canWrite: boolean;
}

export interface StartGiteaServerOptions {
  owner?: string;
  repo?: string;
  /** token -> who it belongs to; any other token gets Gitea's 401 "user does not exist". */
  tokens?: Record<string, GiteaTokenGrant>;
  /** [repository.release] FILE_MAX_SIZE in bytes. */
  attachmentMaxSize?: number;
  /**
   * Like Gitea with object storage and SERVE_DIRECT: downloads answer 303 to a signed URL on a
   * second loopback server (another origin), whose requests `storageRequests()` records.
   */
  serveDownloadsDirect?: boolean;
  /**
   * [repository.release] ALLOWED_TYPES: extensions (".gz"), MIME types ("text/plain", "image/*") or
   * "*\/*"; unset allows every type (modules/upload Verify).
   */
  allowedTypes?: string[];
  /**
   * Commits the repository has, when no gitRepository is given: publishing a release whose tag is
   * missing creates it from its target, which must be one of these.
   */
  commits?: string[];
  /**
   * The repository's git data (a bare repository), as Gitea keeps it: publishing a release whose tag
   * the repository lacks creates the tag at the release's target, and fails when the repository
   * does not have that commit (services/release/release.go, createTag), as it would for a release
   * published before its commit was pushed.
   */
  gitRepository?: string;
  /**
   * Who sees a draft at /releases/tags/{tag}. Gitea before go-gitea/gitea#36659 (2026) and older
   * Forgejo answer it to anyone who may read the repository (release_tags.go GetReleaseByTag checks
   * only IsTag): `everyone`. Newer Gitea and Forgejo answer it to writers only, and 404 to the rest:
   * `writers`, the default.
   */
  draftsByTag?: 'writers' | 'everyone';
  /**
   * Names (owner/name) the repository had before a rename or a transfer: API calls to them answer
   * 307 to the same call under the current name, as Gitea does (routers/api/v1/api.go repoAssignment,
   * services/context RedirectToRepo), whatever the method.
   */
  formerNames?: string[];
  /** Leave out Link headers (X-Total-Count only), as some proxies strip them. */
  omitLinkHeaders?: boolean;
  /** Gitea's [api] MAX_RESPONSE_ITEMS: the most items one page holds whatever `limit` asks. */
  maxPageSize?: number;
  /** A private repository: to callers without a token it does not exist (404), downloads included. */
  privateRepo?: boolean;
  /** Answers JSON indented by this many spaces, as a pretty-printing proxy (or a future Gitea) may. */
  indentJson?: number;
  /**
   * Like Gitea 1.20 (go-gitea/gitea#25257, #26165, #27142; fixed by #26430): a token is read on API
   * paths and /attachments/<uuid> only, not at /{owner}/{repo}/releases/download/<tag>/<name>, where
   * the caller is anonymous: a private repository's assets are 404 there. That route then listed
   * drafts to anyone (GetReleasesByRepoIDAndNames). Default: current Gitea, which reads it there too.
   */
  tokenlessDownloadByName?: boolean;
}

export interface StoredAttachment {
  id: number;
  uuid: string;
  name: string;
  bytes: Buffer;
  createdAt: string;
}

export interface StoredRelease {
  id: number;
  tagName: string;
  target: string;
  title: string;
  note: string;
  draft: boolean;
  prerelease: boolean;
  author: string;
  /** Gitea's CreatedUnix, which it answers as both created_at and published_at. */
  createdAt: string;
  attachments: StoredAttachment[];
}

export interface RecordedRequest {
  method: string;
  url: string;
  status: number;
  authorization?: string;
}

export interface TestGiteaServer {
  url: string;
  owner: string;
  repo: string;
  faults: GiteaFaults;
  releases(): StoredRelease[];
  /** Seeds a release as if someone made it earlier. */
  addRelease(release: Partial<StoredRelease> & { tagName: string }): StoredRelease;
  requests(): RecordedRequest[];
  /** Calls `listener` with the releases after every request, e.g. to prove a tag never lacks one. */
  observe(listener: (releases: StoredRelease[]) => void): void;
  violations(): ContractViolation[];
  storageRequests(): RecordedRequest[];
  stop(): Promise<void>;
}

interface TagRow {
  id: number;
  tagName: string;
  createdAt: string;
}

interface Caller {
  login?: string;
  canWrite: boolean;
}

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

const apiPrefix = '/api/v1';

export async function startGiteaServer(options: StartGiteaServerOptions = {}): Promise<TestGiteaServer> {
  const gitea = new GiteaModel(options);
  const server = await listenOnLoopback((req, res) => void gitea.handle(req, res));
  gitea.url = server.url;
  const storage = options.serveDownloadsDirect
    ? await listenOnLoopback((req, res) => gitea.serveFromStorage(req, res))
    : undefined;
  gitea.storageUrl = storage?.url;
  return {
    url: gitea.url,
    owner: gitea.owner,
    repo: gitea.repo,
    faults: gitea.faults,
    releases: () => gitea.releases(),
    addRelease: (release) => gitea.addRelease(release),
    requests: () => gitea.log,
    observe: (listener) => gitea.observers.push(listener),
    violations: () => gitea.violations,
    storageRequests: () => gitea.storageLog,
    stop: async () => {
      await closeServer(server.server);
      if (storage) await closeServer(storage.server);
    },
  };
}

async function listenOnLoopback(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

class GiteaModel {
  url = '';
  storageUrl?: string;
  readonly storageLog: RecordedRequest[] = [];
  readonly owner: string;
  readonly repo: string;
  readonly faults = new GiteaFaults();
  readonly store: StoredRelease[] = [];
  readonly log: RecordedRequest[] = [];
  readonly violations: ContractViolation[] = [];
  readonly observers: Array<(releases: StoredRelease[]) => void> = [];
  private readonly contract = new GiteaContract();
  private nextId = 1;
  /** The repository's tags when last looked at, with their dates (gitRepository only). */
  private knownTags = new Map<string, number>();
  /** Tags publishing made, when the repository is only a list of commits. */
  private readonly madeTags = new Set<string>();
  /**
   * Gitea's rows of a tag without a release (IsTag), by lower-cased tag, that deleting a release
   * leaves behind (services/release/release.go DeleteReleaseByID with delTag false, as the API and
   * the web UI's "delete release" call it): hidden from every look-up, reused by the next create.
   */
  private readonly tagRows = new Map<string, TagRow>();

  /** setting.API.SwaggerURL: what every API error names as its `url` (services/context/api.go APIError, APIErrorNotFound). */
  get swaggerUrl(): string {
    return `${this.url}/api/swagger`;
  }

  constructor(private readonly options: StartGiteaServerOptions) {
    this.owner = options.owner ?? 'admin';
    this.repo = options.repo ?? 'changemaker.lite';
    this.knownTags = this.repositoryTags();
  }

  /** The releases as Gitea holds them now: pushes to the repository since the last call have been applied. */
  releases(): StoredRelease[] {
    this.applyPushedTags();
    return this.store;
  }

  /**
   * Gitea's push hook (services/repository/push.go pushUpdateAddTags): a pushed tag publishes the
   * draft of the same tag, dated by the tag; a deleted tag turns its release back into a draft
   * (models/repo/release.go PushUpdateDeleteTags). Gitea does it when the push arrives; here it is
   * done before the next request or look, which no client can tell apart.
   */
  private applyPushedTags(): void {
    if (!this.options.gitRepository) return;
    const tags = this.repositoryTags();
    for (const [tag, date] of tags) {
      if (this.knownTags.has(tag)) continue;
      const release = this.releaseTagged(tag);
      if (!release) continue;
      release.draft = false;
      release.createdAt = new Date(date * 1000).toISOString();
    }
    for (const tag of this.knownTags.keys()) {
      if (tags.has(tag)) continue;
      const release = this.releaseTagged(tag);
      if (release) release.draft = true;
      this.tagRows.delete(tag.toLowerCase());
    }
    this.knownTags = tags;
  }

  private releaseTagged(tag: string): StoredRelease | undefined {
    return this.store.find((release) => release.tagName.toLowerCase() === tag.toLowerCase());
  }

  private repositoryTags(): Map<string, number> {
    if (!this.options.gitRepository) return new Map();
    const listed = spawnSync('git', ['-C', this.options.gitRepository, 'for-each-ref', '--format=%(refname:strip=2) %(creatordate:unix)', 'refs/tags'], { encoding: 'utf8' });
    return new Map(listed.stdout.split('\n').filter(Boolean).map((line) => {
      const [tag = '', date = '0'] = line.split(' ');
      return [tag, Number(date)] as const;
    }));
  }

  addRelease(release: Partial<StoredRelease> & { tagName: string }): StoredRelease {
    const stored: StoredRelease = {
      id: this.nextId++,
      target: 'main',
      title: release.tagName,
      note: '',
      draft: false,
      prerelease: false,
      author: 'someone-else',
      createdAt: now(),
      attachments: [],
      ...release,
    };
    this.store.push(stored);
    return stored;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const isUpload = method === 'POST' && /\/assets$/.test(url.pathname);
    if (isUpload && this.faults.takeDroppedUpload()) {
      // The fault: the client has started sending, then the connection is cut mid-body.
      req.once('data', () => req.socket.destroy());
      this.log.push({ method, url: req.url ?? '', status: 0, authorization: req.headers.authorization });
      return;
    }
    const proxyStatus = url.pathname.startsWith(apiPrefix) ? this.faults.takeProxyPage(method) : undefined;
    if (proxyStatus) {
      // nginx answers, not Gitea: no contract applies. It reads the body to its end first (lingering close).
      req.resume();
      await new Promise((resolve) => req.once('end', resolve));
      this.log.push({ method, url: req.url ?? '', status: proxyStatus, authorization: req.headers.authorization });
      const page = proxyStatus === 200 ? signInPage : nginxErrorPage(proxyStatus);
      // A redirecting proxy sends every request to https (`return 301 https://$host$request_uri;`).
      const location = proxyStatus >= 300 && proxyStatus < 400 ? { location: `https://${req.headers.host ?? ''}${req.url ?? ''}` } : {};
      res.writeHead(proxyStatus, { 'content-type': 'text/html', 'content-length': page.length, ...location });
      res.end(page);
      return;
    }
    this.applyPushedTags();
    let answer: HttpAnswer | Buffer;
    try {
      answer = await this.route(req, url, method);
    } catch (error) {
      answer = new HttpAnswer(500, { message: error instanceof Error ? error.message : String(error), url: this.swaggerUrl });
    }
    this.log.push({ method, url: req.url ?? '', status: answer instanceof HttpAnswer ? answer.status : 200, authorization: req.headers.authorization });
    for (const observe of this.observers) observe(this.releases());
    if (answer instanceof HttpAnswer && answer.status === 201 && this.answerIsLost(method, isUpload, url)) {
      // The fault: the change was made, but its answer never reaches the client.
      req.socket.destroy();
      return;
    }
    if (!(answer instanceof HttpAnswer)) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': answer.length });
      res.end(answer);
      return;
    }
    const body = answer.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(answer.body, null, this.options.indentJson));
    // A redirect is answered before any operation runs (repoAssignment): no operation's responses apply.
    if (url.pathname.startsWith(apiPrefix) && answer.status !== 307) {
      this.violations.push(...this.contract.check(method, url.pathname.slice(apiPrefix.length), answer.status, body));
    }
    res.writeHead(answer.status, {
      ...(body.length > 0 ? { 'content-type': 'application/json;charset=utf-8' } : {}),
      'content-length': body.length,
      ...answer.headers,
    });
    res.end(body);
  }

  private answerIsLost(method: string, isUpload: boolean, url: URL): boolean {
    if (isUpload) return this.faults.takeLostUploadAnswer();
    return method === 'POST' && url.pathname.endsWith('/releases') && this.faults.takeLostCreateAnswer();
  }

  private async route(req: IncomingMessage, url: URL, method: string): Promise<HttpAnswer | Buffer> {
    const byName = new RegExp(`^/([^/]+)/([^/]+)/releases/download/([^/]+)/([^/]+)$`).exec(url.pathname);
    const isDownloadByName = Boolean(byName && decodeURIComponent(byName[1]!) === this.owner && decodeURIComponent(byName[2]!) === this.repo);
    // Gitea 1.20 read no token at /{owner}/{repo}/releases/download/ (tokenlessDownloadByName): not even an unknown one.
    const caller = isDownloadByName && this.options.tokenlessDownloadByName ? { canWrite: false } : this.authenticate(req.headers.authorization);
    if (caller instanceof HttpAnswer) return caller;
    if (this.options.privateRepo && !caller.login) return notFound(this.swaggerUrl);
    const download = /^\/attachments\/([^/]+)$/.exec(url.pathname);
    if (download) return this.download(download[1]!);
    if (byName && isDownloadByName) {
      const showDrafts = caller.canWrite || this.options.tokenlessDownloadByName === true;
      return this.downloadByName(showDrafts, decodeURIComponent(byName[3]!), decodeURIComponent(byName[4]!));
    }
    const injected = this.faults.takeInjectedStatus(method);
    if (injected === 500) return internalError(this.swaggerUrl);
    if (injected) return new HttpAnswer(injected, { message: `injected fault ${injected}`, url: this.swaggerUrl }, injected === 429 ? { 'retry-after': '0' } : {});
    // routers/api/v1/api.go: the token's scope is checked for the whole /repos group (tokenRequiresScopes),
    // before the repository is looked up; then reqToken and reqRepoWriter on each write.
    const isWrite = method !== 'GET';
    if (isWrite && caller.login && !caller.canWrite) {
      return new HttpAnswer(403, { message: 'token does not have at least one of required scope(s), required=[write:repository], token scope=read:repository', url: this.swaggerUrl });
    }
    const match = new RegExp(`^${apiPrefix}/repos/([^/]+)/([^/]+)(/releases.*)$`).exec(url.pathname);
    const formerName = match && this.options.formerNames?.includes(`${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)}`);
    if (formerName) {
      const moved = `${apiPrefix}/repos/${pathEscape(this.owner)}/${pathEscape(this.repo)}${match[3]!}${url.search}`;
      return new HttpAnswer(307, undefined, { location: moved });
    }
    if (!match || decodeURIComponent(match[1]!) !== this.owner || decodeURIComponent(match[2]!) !== this.repo) {
      return notFound(this.swaggerUrl);
    }
    const rest = match[3]!;
    if (isWrite && !caller.login) return new HttpAnswer(401, { message: 'token is required', url: this.swaggerUrl });
    return this.routeReleases(req, url, method, rest, caller);
  }

  private async routeReleases(req: IncomingMessage, url: URL, method: string, rest: string, caller: Caller): Promise<HttpAnswer> {
    let m: RegExpExecArray | null;
    if (rest === '/releases' && method === 'GET') return this.list(url, caller);
    if (rest === '/releases' && method === 'POST') return this.create(await readJson(req), caller);
    if (rest === '/releases/latest' && method === 'GET') return this.latest();
    if ((m = /^\/releases\/tags\/([^/]+)$/.exec(rest))) {
      const release = this.releaseTagged(decodeURIComponent(m![1]!));
      const visible = release && (!release.draft || caller.canWrite || this.options.draftsByTag === 'everyone');
      if (!visible) return notFound(this.swaggerUrl);
      if (method === 'GET') return new HttpAnswer(200, this.present(release));
      if (method === 'DELETE') return this.deleteRelease(release);
    }
    if ((m = /^\/releases\/(\d+)(\/assets(?:\/(\d+))?)?$/.exec(rest))) {
      const release = this.store.find((r) => r.id === Number(m![1]));
      if (!release || (release.draft && !caller.canWrite)) return notFound(this.swaggerUrl);
      if (!m[2]) return this.releaseCall(req, method, release);
      if (!m[3]) return method === 'POST' ? this.upload(req, url, release) : new HttpAnswer(200, this.presentAttachments(release));
      const attachment = release.attachments.find((a) => a.id === Number(m![3]));
      if (!attachment) return notFound(this.swaggerUrl);
      return this.attachmentCall(req, method, release, attachment);
    }
    return notFound(this.swaggerUrl);
  }

  private latest(): HttpAnswer {
    const newest = this.latestRelease();
    return newest ? new HttpAnswer(200, this.present(newest)) : notFound(this.swaggerUrl);
  }

  /** models/repo/release.go GetLatestReleaseByRepoID: published, not a pre-release, newest by created_unix then id. */
  private latestRelease(): StoredRelease | undefined {
    return this.store.filter((r) => !r.draft && !r.prerelease).sort(newestFirst)[0];
  }

  /**
   * services/auth/oauth2.go parseToken: `Authorization` of exactly two fields, the first `token`
   * (lower case only) or `bearer` (any case); any other header leaves the caller anonymous. A token
   * no user holds is 401 "user does not exist". (Basic auth with a token as password is not modelled.)
   */
  private authenticate(header: string | undefined): Caller | HttpAnswer {
    const fields = header?.trim().split(/\s+/) ?? [];
    const token = fields.length === 2 && (fields[0] === 'token' || fields[0]!.toLowerCase() === 'bearer') ? fields[1]! : undefined;
    if (token === undefined) return { canWrite: false };
    const grant = this.options.tokens?.[token];
    if (!grant) return new HttpAnswer(401, { message: unknownTokenMessage, url: this.swaggerUrl });
    return grant;
  }

  /**
   * routers/api/v1/repo/release.go ListReleases: drafts for writers only; `draft` and `pre-release`
   * are filters (true: only those, false: none of those); newest first by creation time, then id
   * (models/repo/release.go); `limit` is [api] DEFAULT_PAGING_NUM (30) when absent or not positive
   * and at most MAX_RESPONSE_ITEMS (convert.ToCorrectPageSize). The Link header
   * (services/context/api.go genAPILinks) keeps the request's query, `limit` as asked, and sets `page`.
   */
  private list(url: URL, caller: Caller): HttpAnswer {
    const draft = formOptionalBool(url.searchParams.get('draft'));
    const prerelease = formOptionalBool(url.searchParams.get('pre-release'));
    const visible = this.store
      .filter((r) => caller.canWrite || !r.draft)
      .filter((r) => draft === undefined || r.draft === draft)
      .filter((r) => prerelease === undefined || r.prerelease === prerelease)
      .sort(newestFirst);
    const maxPage = this.options.maxPageSize ?? 50;
    const asked = Math.trunc(Number(url.searchParams.get('limit') ?? 0)) || 0;
    const limit = Math.min(asked > 0 ? asked : 30, maxPage);
    const page = Math.max(1, Math.trunc(Number(url.searchParams.get('page') ?? 1)) || 1);
    const items = visible.slice((page - 1) * limit, page * limit);
    const lastPage = Math.max(1, Math.ceil(visible.length / limit));
    const pageUrl = (n: number) => {
      const next = new URL(url.toString());
      next.searchParams.set('page', String(n));
      return next.toString();
    };
    const links = [
      ...(page < lastPage ? [`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(lastPage)}>; rel="last"`] : []),
      ...(page > 1 ? [`<${pageUrl(1)}>; rel="first"`, `<${pageUrl(page - 1)}>; rel="prev"`] : []),
    ];
    return new HttpAnswer(
      200,
      items.map((r) => this.present(r)),
      { 'x-total-count': String(visible.length), ...(links.length > 0 && !this.options.omitLinkHeaders ? { link: links.join(',') } : {}) },
    );
  }

  /**
   * routers/api/v1/repo/release.go CreateRelease: 422 for an empty repository; 409 when a release
   * holds the tag (looked up lower-cased, models/repo/release.go GetRelease); a published one makes
   * its tag from the target (the default branch when none is given), 404 for a target Gitea lacks.
   */
  private create(option: Record<string, unknown>, caller: Caller): HttpAnswer {
    const tagName = typeof option['tag_name'] === 'string' ? option['tag_name'] : '';
    if (!tagName) return new HttpAnswer(422, { message: '[TagName]: Required', url: this.swaggerUrl });
    if (this.repositoryIsEmpty()) return new HttpAnswer(422, { message: 'repo is empty', url: this.swaggerUrl });
    const raced = this.faults.takeConcurrentCreate();
    if (this.releaseTagged(tagName)) {
      return new HttpAnswer(409, { message: 'Release is has no Tag', url: this.swaggerUrl });
    }
    // Another create landed between the look-up and the insert (services/release CreateRelease IsReleaseExist).
    const tagRow = this.tagRowOf(tagName);
    if (tagRow) return this.createOverTag(tagRow, option, caller);
    if (raced) {
      this.addRelease({ tagName, draft: true, author: 'concurrent-publisher' });
      return new HttpAnswer(409, { message: `release tag already exist [tag_name: ${tagName}]`, url: this.swaggerUrl });
    }
    const target = typeof option['target_commitish'] === 'string' && option['target_commitish'] ? option['target_commitish'] : undefined;
    if (option['draft'] !== true) {
      const tagged = this.createTagOnPublish(tagName, target ?? 'main');
      if (tagged.problem) return new HttpAnswer(404, { message: `target "${target ?? 'main'}" not found: ${tagged.problem}`, url: this.swaggerUrl });
    }
    const release = this.addRelease({
      tagName,
      target: target ?? 'main',
      title: typeof option['name'] === 'string' ? option['name'] : '',
      note: typeof option['body'] === 'string' ? option['body'] : '',
      draft: option['draft'] === true,
      prerelease: option['prerelease'] === true,
      author: caller.login ?? '',
    });
    return new HttpAnswer(201, this.present(release));
  }

  /**
   * The row Gitea holds for a tag without a release: one a deleted release left, or a tag pushed to
   * the repository (services/repository/push.go pushUpdateAddTags inserts one per new tag).
   */
  private tagRowOf(tagName: string): TagRow | undefined {
    const left = this.tagRows.get(tagName.toLowerCase());
    if (left) return left;
    const pushed = [...this.knownTags].find(([tag]) => tag.toLowerCase() === tagName.toLowerCase());
    return pushed && { id: this.nextId++, tagName: pushed[0], createdAt: new Date(pushed[1] * 1000).toISOString() };
  }

  /**
   * routers/api/v1/repo/release.go CreateRelease over a tag row: the row becomes the release, its id
   * and tag name kept, the target taken as given (no default branch here), and UpdateRelease's
   * createTag makes a missing tag when it is published, failing with a 500 (not the 404 of a new release).
   */
  private createOverTag(row: TagRow, option: Record<string, unknown>, caller: Caller): HttpAnswer {
    const target = typeof option['target_commitish'] === 'string' ? option['target_commitish'] : '';
    const draft = option['draft'] === true;
    const tagged = draft ? { created: false } : this.createTagOnPublish(row.tagName, target);
    if (tagged.problem) return internalError(this.swaggerUrl);
    this.tagRows.delete(row.tagName.toLowerCase());
    const release = this.addRelease({
      id: row.id,
      tagName: row.tagName,
      target,
      title: typeof option['name'] === 'string' ? option['name'] : '',
      note: typeof option['body'] === 'string' ? option['body'] : '',
      draft,
      prerelease: option['prerelease'] === true,
      author: caller.login ?? '',
      createdAt: draft || tagged.created ? now() : row.createdAt,
    });
    return new HttpAnswer(201, this.present(release));
  }

  private async releaseCall(req: IncomingMessage, method: string, release: StoredRelease): Promise<HttpAnswer> {
    if (method === 'GET') return new HttpAnswer(200, this.present(release));
    if (method === 'DELETE') return this.deleteRelease(release);
    if (method !== 'PATCH') return notFound(this.swaggerUrl);
    const edit = await readJson(req);
    if (edit['draft'] === false && this.faults.takePublishFailure()) return internalError(this.swaggerUrl);
    // routers/api/v1/repo/release.go EditRelease: an empty field leaves the old value, the tag name
    // and the target included; then services/release UpdateRelease runs createTag with the new values.
    const given = (field: string) => (typeof edit[field] === 'string' && edit[field] ? (edit[field] as string) : undefined);
    const tagName = given('tag_name') ?? release.tagName;
    const target = given('target_commitish') ?? release.target;
    const draft = typeof edit['draft'] === 'boolean' ? edit['draft'] : release.draft;
    // The (repo_id, tag_name) unique index refuses a second release of one tag: a database error, so a 500.
    const taken = this.store.some((other) => other !== release && other.tagName === tagName) || this.tagRows.get(tagName.toLowerCase())?.tagName === tagName;
    if (tagName !== release.tagName && taken) return internalError(this.swaggerUrl);
    // createTag: a draft is dated now; a release being published makes its missing tag (dated now), or fails with a 500.
    const tagged = draft ? { created: false } : this.createTagOnPublish(tagName, target);
    if (tagged.problem) return internalError(this.swaggerUrl);
    if (draft || tagged.created) release.createdAt = now();
    release.tagName = tagName;
    release.target = target;
    release.draft = draft;
    if (given('name')) release.title = given('name')!;
    if (given('body')) release.note = given('body')!;
    if (typeof edit['prerelease'] === 'boolean') release.prerelease = edit['prerelease'];
    return new HttpAnswer(200, this.present(release));
  }

  /**
   * Gitea's createTag when a release is published (never for a draft): nothing when the tag exists,
   * `created` when it was made from the target, else Gitea's reason.
   */
  private createTagOnPublish(tagName: string, target: string): { created: boolean; problem?: string } {
    const missing = { created: false, problem: `createTag::GetCommit[${target}]: object does not exist [id: ${target}, rel_path: ]` };
    const repository = this.options.gitRepository;
    if (!repository) {
      // A release published earlier (seeded by addRelease too) has its tag.
      const tagged = this.madeTags.has(tagName) || this.store.some((r) => r.tagName === tagName && !r.draft);
      if (!this.options.commits || tagged) return { created: false };
      if (!this.options.commits.includes(target)) return missing;
      this.madeTags.add(tagName);
      return { created: true };
    }
    const git = (...args: string[]) => spawnSync('git', ['-C', repository, ...args], { encoding: 'utf8' });
    if (git('rev-parse', '--verify', '--quiet', `refs/tags/${tagName}`).status === 0) return { created: false };
    if (git('rev-parse', '--verify', '--quiet', `${target}^{commit}`).status !== 0) return missing;
    git('tag', tagName, target);
    this.knownTags = this.repositoryTags();
    return { created: true };
  }

  /** repo.IsEmpty: a repository without any branch (gitRepository only). */
  private repositoryIsEmpty(): boolean {
    const repository = this.options.gitRepository;
    if (!repository) return false;
    return spawnSync('git', ['-C', repository, 'for-each-ref', '--count=1', 'refs/heads'], { encoding: 'utf8' }).stdout.trim() === '';
  }

  /** DeleteReleaseByID without delTag: the release and its attachments go, its tag and a tag row stay. */
  private deleteRelease(release: StoredRelease): HttpAnswer {
    this.store.splice(this.store.indexOf(release), 1);
    this.tagRows.set(release.tagName.toLowerCase(), { id: release.id, tagName: release.tagName, createdAt: release.createdAt });
    if (!release.draft && !this.options.gitRepository) this.madeTags.add(release.tagName);
    return new HttpAnswer(204, undefined);
  }

  private async upload(req: IncomingMessage, url: URL, release: StoredRelease): Promise<HttpAnswer> {
    const request = new Request(url, {
      method: 'POST',
      headers: req.headers as Record<string, string>,
      body: Readable.toWeb(req) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    // routers/api/v1/repo/release_attachment.go CreateReleaseAttachment: no `attachment` field is
    // FormFile's error, a 500; then the name, the type (services/attachment UploadAttachment) and the size.
    const file = (await request.formData()).get('attachment');
    if (!(file instanceof Blob)) return internalError(this.swaggerUrl);
    const name = url.searchParams.get('name') || (file instanceof File ? file.name : '');
    if (!name) return new HttpAnswer(400, { message: 'Could not determine name of attachment.', url: this.swaggerUrl });
    const bytes = Buffer.from(await file.arrayBuffer());
    const refusedType = this.refusedType(name, bytes);
    if (refusedType) return new HttpAnswer(400, { message: refusedType, url: this.swaggerUrl });
    if (this.options.attachmentMaxSize !== undefined && file.size > this.options.attachmentMaxSize) {
      // services/attachment/attachment.go uploadAttachmentOrReleaseAttachment: util.ErrContentTooLarge's text.
      return new HttpAnswer(413, { message: `attachment exceeds limit ${this.options.attachmentMaxSize}`, url: this.swaggerUrl });
    }
    const attachment: StoredAttachment = {
      id: this.nextId++,
      uuid: randomUUID(),
      name,
      bytes: this.faults.corruptUpload(name, bytes),
      createdAt: now(),
    };
    release.attachments.push(attachment);
    return new HttpAnswer(201, this.presentAttachment(attachment));
  }

  private async attachmentCall(req: IncomingMessage, method: string, release: StoredRelease, attachment: StoredAttachment): Promise<HttpAnswer> {
    if (method === 'GET') return new HttpAnswer(200, this.presentAttachment(attachment));
    if (method === 'DELETE') {
      release.attachments.splice(release.attachments.indexOf(attachment), 1);
      return new HttpAnswer(204, undefined);
    }
    const edit = await readJson(req);
    if (typeof edit['name'] === 'string' && edit['name']) {
      // services/attachment UpdateAttachment checks the new name with no content, which sniffs as text/plain.
      const refusedType = this.refusedType(edit['name'], Buffer.alloc(0));
      if (refusedType) return new HttpAnswer(422, { message: refusedType, url: this.swaggerUrl });
      attachment.name = edit['name'];
    }
    return new HttpAnswer(201, this.presentAttachment(attachment));
  }

  /**
   * modules/upload Verify: allowed when ALLOWED_TYPES is empty or holds "*\/*", the name's last
   * extension (path.Ext, lower-cased: ".tar.gz" is ".gz"), the content's sniffed MIME type, or
   * its "type/*". Else Gitea's message, naming the sniffed type.
   */
  private refusedType(name: string, bytes: Buffer): string | undefined {
    const allowed = (this.options.allowedTypes ?? []).map((entry) => entry.trim().toLowerCase()).filter(Boolean);
    if (allowed.length === 0) return undefined;
    const mimeType = sniffedMimeType(bytes);
    const extension = extname(name).toLowerCase();
    const passes = allowed.some(
      (entry) =>
        entry === '*/*' ||
        (entry.startsWith('.') && entry === extension) ||
        entry === mimeType ||
        (entry.endsWith('/*') && mimeType.startsWith(entry.slice(0, -1))),
    );
    return passes ? undefined : `This file extension or type is not allowed to be uploaded. Type "${mimeType}${mimeType.startsWith('text/') ? '; charset=utf-8' : ''}"`;
  }

  /**
   * routers/web/repo/attachment.go ServeAttachment: anyone who may read the repository's releases
   * gets the file, a draft's included (there is no draft check on this route).
   */
  private download(uuid: string): HttpAnswer | Buffer {
    const attachment = this.store.flatMap((release) => release.attachments).find((a) => a.uuid === uuid);
    return attachment ? this.serveAttachment(attachment) : notFound(this.swaggerUrl);
  }

  /**
   * routers/web/repo/repo.go RedirectDownload: the release at the tag (drafts for writers only; "latest"
   * names the latest release when no tag is called so), its first attachment of that name, served as
   * /attachments/<uuid> would be.
   */
  private downloadByName(showDrafts: boolean, tag: string, name: string): HttpAnswer | Buffer {
    const tagged = this.store.filter((release) => release.tagName === tag && (!release.draft || showDrafts));
    const release = tagged.length === 0 && tag === 'latest' ? this.latestRelease() : tagged.length === 1 ? tagged[0] : undefined;
    const attachment = release?.attachments.filter((a) => a.name === name).sort((a, b) => a.id - b.id)[0];
    return attachment ? this.serveAttachment(attachment) : notFound(this.swaggerUrl);
  }

  private serveAttachment(attachment: StoredAttachment): HttpAnswer | Buffer {
    if (this.storageUrl) return new HttpAnswer(303, undefined, { location: `${this.storageUrl}/storage/${attachment.uuid}?X-Amz-Signature=signed` });
    return attachment.bytes;
  }

  serveFromStorage(req: IncomingMessage, res: ServerResponse): void {
    const uuid = /^\/storage\/([^/?]+)/.exec(req.url ?? '')?.[1];
    const attachment = this.store.flatMap((r) => r.attachments).find((a) => a.uuid === uuid);
    this.storageLog.push({ method: req.method ?? 'GET', url: req.url ?? '', status: attachment ? 200 : 404, authorization: req.headers.authorization });
    res.writeHead(attachment ? 200 : 404, { 'content-length': attachment?.bytes.length ?? 0 });
    res.end(attachment?.bytes);
  }

  private present(release: StoredRelease): Record<string, unknown> {
    const web = `${this.url}/${this.owner}/${this.repo}`;
    return {
      id: release.id,
      tag_name: release.tagName,
      target_commitish: release.target,
      name: release.title,
      body: release.note,
      url: `${this.url}${apiPrefix}/repos/${this.owner}/${this.repo}/releases/${release.id}`,
      html_url: `${web}/releases/tag/${release.tagName}`,
      tarball_url: `${web}/archive/${release.tagName}.tar.gz`,
      zipball_url: `${web}/archive/${release.tagName}.zip`,
      upload_url: `${this.url}${apiPrefix}/repos/${this.owner}/${this.repo}/releases/${release.id}/assets`,
      draft: release.draft,
      prerelease: release.prerelease,
      // services/convert/release.go ToAPIRelease: both are the release's CreatedUnix.
      created_at: giteaTime(release.createdAt),
      published_at: giteaTime(release.createdAt),
      author: { id: 1, login: release.author, full_name: release.author, email: `${release.author}@example.invalid`, avatar_url: '' },
      assets: this.presentAttachments(release),
    };
  }

  /**
   * A release's attachments as Gitea lists them (models/repo/release.go GetReleaseAttachments): by
   * name, each downloadable by tag and name when no two share a name, else by uuid.
   */
  private presentAttachments(release: StoredRelease): Array<Record<string, unknown>> {
    const names = release.attachments.map((a) => a.name);
    const byName = new Set(names).size === names.length;
    return [...release.attachments]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id))
      .map((a) => this.presentAttachment(a, byName ? release : undefined));
  }

  /** One attachment; downloadable by uuid unless listed with its release (presentAttachments). */
  private presentAttachment(attachment: StoredAttachment, release?: StoredRelease): Record<string, unknown> {
    const downloadUrl = release
      ? `${this.url}/${this.owner}/${this.repo}/releases/download/${pathEscape(release.tagName)}/${pathEscape(attachment.name)}`
      : `${this.url}/attachments/${attachment.uuid}`;
    return {
      id: attachment.id,
      name: attachment.name,
      size: attachment.bytes.length,
      download_count: 0,
      created_at: giteaTime(attachment.createdAt),
      uuid: attachment.uuid,
      browser_download_url: downloadUrl,
    };
  }
}

/** Desc("created_unix", "id"): Gitea keeps whole seconds, so releases made in one second go by id. */
function newestFirst(a: StoredRelease, b: StoredRelease): number {
  return unixSeconds(b.createdAt) - unixSeconds(a.createdAt) || b.id - a.id;
}

function unixSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

/** timeutil.TimeStamp.AsTime() as Go's JSON writes it: whole seconds, RFC 3339. */
function giteaTime(iso: string): string {
  return new Date(unixSeconds(iso) * 1000).toISOString().replace('.000Z', 'Z');
}

function now(): string {
  return new Date().toISOString();
}

/** ctx.FormOptionalBool: strconv.ParseBool's spellings, anything else (or nothing) is no filter. */
function formOptionalBool(value: string | null): boolean | undefined {
  if (value === null) return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/** Go's url.PathEscape: a path segment, with the sub-delimiters it leaves as they are. */
function pathEscape(segment: string): string {
  return encodeURIComponent(segment)
    .replace(/[!'()*]/g, (reserved) => `%${reserved.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%(24|26|2B|3A|3D|40)/g, (escaped) => decodeURIComponent(escaped));
}

/** Production Gitea (RUN_MODE=prod) blanks a 500's message for all but admins (services/context/api.go Error). */
function internalError(url: string): HttpAnswer {
  return new HttpAnswer(500, { message: '', url });
}

/**
 * What Go's http.DetectContentType says of the first 512 bytes, for the kinds a release holds:
 * gzip, zip, text (no binary bytes; empty content too), else application/octet-stream.
 */
function sniffedMimeType(bytes: Buffer): string {
  const head = bytes.subarray(0, 512);
  if (head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'application/x-gzip';
  if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return 'application/zip';
  const binary = head.some((byte) => byte <= 0x08 || byte === 0x0b || (byte >= 0x0e && byte <= 0x1a) || (byte >= 0x1c && byte <= 0x1f));
  return binary ? 'application/octet-stream' : 'text/plain';
}

const nginxReasons: Record<number, string> = { 301: 'Moved Permanently', 403: 'Forbidden', 413: 'Request Entity Too Large', 429: 'Too Many Requests', 502: 'Bad Gateway', 503: 'Service Temporarily Unavailable', 504: 'Gateway Time-out' };

/** nginx's own error page (ngx_http_special_response.c), as it sends it when Gitea behind it cannot answer. */
function nginxErrorPage(status: number): Buffer {
  const title = `${status} ${nginxReasons[status] ?? 'Error'}`;
  return Buffer.from(`<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`);
}

/** What an authenticating proxy (oauth2-proxy, Authelia) answers, 200, to a request without its session. */
const signInPage = Buffer.from('<!DOCTYPE html>\n<html lang="en">\n<head>\n<title>Sign In</title>\n</head>\n<body><form method="GET" action="/oauth2/start"><button>Sign in</button></form></body>\n</html>\n');

function notFound(url: string): HttpAnswer {
  // services/context/api.go NotFound: `errors` is a nil slice, which Go writes as null.
  return new HttpAnswer(404, { errors: null, message: "The target couldn't be found.", url });
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
