import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { HttpConnections, isRedirect, maxRedirectHops, oneLine, pageTitle, redirectTarget, type HttpResponse } from '@changemaker/oci';
import {
  AttachmentTooLargeError,
  AttachmentTypeRefusedError,
  GiteaCertificateError,
  GiteaRedirectError,
  GiteaRequestError,
  GiteaUnreachableError,
  InvalidSettingError,
  NotGiteaAnswerError,
  PermissionDeniedError,
  ProxyAnswerError,
  ReleaseConflictError,
  RepositoryNotFoundError,
  TokenRequiredError,
  UnknownTokenError,
} from './gitea-errors';
import { nextPageUrl } from './link-header';
import { multipartForm, type FormFile, type MultipartForm } from './multipart-form';
import type { Attachment, CreateReleaseOption, EditReleaseOption, Release } from './release-types';
import { defaultRetryPolicy, isRetryableStatus, isUntrustedCertificate, retryDelayMs, sleep, type RetryNotice, type RetryPolicy } from './retry-policy';

export interface ReleaseClientOptions {
  /** The Gitea (or Forgejo) web root, e.g. https://gitea.example.com or https://host/gitea. */
  giteaUrl: string;
  /** owner/name */
  repo: string;
  token?: string;
  /** Merged over defaultRetryPolicy. */
  retry?: Partial<RetryPolicy>;
  onRetry?: (notice: RetryNotice) => void;
}

/** What an upload sends: a file, streamed from disk on every attempt, or a short text made on the spot. */
export type AssetContent = { path: string; size: number } | { text: string };

interface GiteaCall {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path under /api/v1, or an absolute URL on GITEA_URL's origin (downloads). */
  path: string;
  json?: unknown;
  /** Rebuilt for every attempt, so a retried upload streams the file again from its start. */
  form?: () => MultipartForm;
  /** What a 404 means for this call; without it, an unexpected answer. */
  onNotFound?: () => Error;
  on400?: (giteaMessage: string) => Error;
  on409?: () => Error;
  on422?: (giteaMessage: string) => Error;
  on413?: () => Error;
}

interface GiteaAnswer {
  /** `METHOD /path` of the request, for errors: never its headers or query, which may carry secrets. */
  request: string;
  status: number;
  header(name: string): string | undefined;
  body: Buffer;
}

const pageSize = 50;

/**
 * Gitea's releases API (Forgejo serves the same), written against gitea-releases-swagger.json.
 * The token travels only in the Authorization header and only to the origin of `giteaUrl`: paging
 * links and download URLs are re-aimed at that origin, and redirects elsewhere go without it.
 */
export class ReleaseClient {
  readonly giteaUrl: string;
  readonly repo: string;
  private readonly apiRoot: string;
  private readonly origin: string;
  private readonly connections = new HttpConnections();

  /** Whether calls carry a token; without one Gitea shows only what is public. */
  get hasToken(): boolean {
    return Boolean(this.options.token);
  }

  constructor(private readonly options: ReleaseClientOptions) {
    this.giteaUrl = options.giteaUrl.replace(/\/+$/, '');
    this.repo = options.repo;
    this.apiRoot = `${this.giteaUrl}/api/v1`;
    const problem = giteaUrlProblem(this.giteaUrl) ?? giteaRepoProblem(this.repo);
    if (problem) throw new InvalidSettingError(problem);
    this.origin = new URL(this.giteaUrl).origin;
  }

  /** The published (or, with write access, draft) release at `tag`; undefined when there is none. */
  async getReleaseByTag(tag: string): Promise<Release | undefined> {
    const answer = await this.callUnlessAbsent({
      method: 'GET',
      path: `${this.repoPath()}/releases/tags/${encodeURIComponent(tag)}`,
    });
    return answer ? (parseJson(answer) as Release) : undefined;
  }

  /**
   * Every release the token may see, page after page, so a release past the first page is never
   * missed. Drafts come too with write access; Gitea's `draft` query would list only drafts.
   */
  async *listReleases(): AsyncGenerator<Release> {
    let path: string | undefined = this.releasesPage(`?limit=${pageSize}&page=1`);
    for (let page = 1, seen = 0; path; page += 1) {
      const answer = await this.call({
        method: 'GET',
        path,
        onNotFound: () => new RepositoryNotFoundError(this.giteaUrl, this.repo),
      });
      const releases = parseJson(answer) as Release[];
      yield* releases;
      seen += releases.length;
      path = releases.length === 0 ? undefined : this.nextPagePath(answer, seen, page + 1);
    }
  }

  /**
   * The release at `tag`, drafts included: Gitea versions differ on whether the by-tag endpoint
   * shows drafts, so a miss there is settled by searching the full list.
   */
  async findReleaseByTag(tag: string): Promise<Release | undefined> {
    const byTag = await this.getReleaseByTag(tag);
    if (byTag) return byTag;
    for await (const release of this.listReleases()) {
      if (release.tag_name === tag) return release;
    }
    return undefined;
  }

  /**
   * Asks, writing nothing, whether the token may write this repository's releases: Gitea checks the
   * token's scope and the user's permission (routers/api/v1/api.go: tokenRequiresScopes, reqToken,
   * reqRepoWriter) before EditRelease looks the release up, so an edit of release 0, which never
   * exists, answers 404 to a writer and 401 or 403 to anyone else. Throws what Gitea refused.
   */
  async checkReleaseWriteAccess(): Promise<void> {
    await this.callUnlessAbsent({ method: 'PATCH', path: `${this.repoPath()}/releases/0`, json: {} });
  }

  async createRelease(option: CreateReleaseOption): Promise<Release> {
    const answer = await this.call({
      method: 'POST',
      path: `${this.repoPath()}/releases`,
      json: option,
      onNotFound: () => new RepositoryNotFoundError(this.giteaUrl, this.repo),
      on409: () => new ReleaseConflictError(option.tag_name),
    });
    return parseJson(answer) as Release;
  }

  async editRelease(id: number, option: EditReleaseOption): Promise<Release> {
    const answer = await this.call({ method: 'PATCH', path: `${this.repoPath()}/releases/${id}`, json: option });
    return parseJson(answer) as Release;
  }

  /**
   * Deletes a release and its files; a release that is already gone counts as deleted, so a repeated
   * delete is harmless. Gitea keeps the release's git tag, if it has one (DeleteReleaseByID, isDelTag false).
   */
  async deleteRelease(id: number): Promise<void> {
    await this.callUnlessAbsent({ method: 'DELETE', path: `${this.repoPath()}/releases/${id}` });
  }

  async listAssets(releaseId: number): Promise<Attachment[]> {
    const answer = await this.call({ method: 'GET', path: `${this.repoPath()}/releases/${releaseId}/assets` });
    return parseJson(answer) as Attachment[];
  }

  /** Streams the file as multipart field `attachment`; `?name=` sets the asset's name. */
  async uploadAsset(releaseId: number, name: string, content: AssetContent): Promise<Attachment> {
    const answer = await this.call({
      method: 'POST',
      path: `${this.repoPath()}/releases/${releaseId}/assets?name=${encodeURIComponent(name)}`,
      form: () => multipartForm('attachment', formFile(name, content)),
      on400: (giteaMessage) => new AttachmentTypeRefusedError(name, giteaMessage),
      on413: () => new AttachmentTooLargeError(name, 'path' in content ? content.size : Buffer.byteLength(content.text)),
    });
    return parseJson(answer) as Attachment;
  }

  async renameAsset(releaseId: number, assetId: number, name: string): Promise<Attachment> {
    const answer = await this.call({
      method: 'PATCH',
      path: `${this.repoPath()}/releases/${releaseId}/assets/${assetId}`,
      json: { name },
      on422: (giteaMessage) => new AttachmentTypeRefusedError(name, giteaMessage, 422),
    });
    return parseJson(answer) as Attachment;
  }

  /** Deleting an asset that is already gone counts as done, so a repeated delete is harmless. */
  async deleteAsset(releaseId: number, assetId: number): Promise<void> {
    await this.callUnlessAbsent({ method: 'DELETE', path: `${this.repoPath()}/releases/${releaseId}/assets/${assetId}` });
  }

  /**
   * The asset's bytes, from GITEA_URL's /attachments/<uuid>: every Gitea and Forgejo reads the token
   * there (services/auth isAttachmentDownload), while Gitea 1.20 read none at the
   * /{owner}/{repo}/releases/download/<tag>/<name> that browser_download_url names when a release's
   * names are unique: a private repository answered 404 (go-gitea/gitea#25257, #27142). Without a
   * uuid, browser_download_url is asked of GITEA_URL's origin (Gitea writes its ROOT_URL there,
   * which may name the same server differently).
   */
  async downloadAsset(asset: Attachment): Promise<Buffer> {
    if (asset.uuid) {
      const answer = await this.call({ method: 'GET', path: `${this.giteaUrl}/attachments/${encodeURIComponent(asset.uuid)}` });
      return answer.body;
    }
    const named = new URL(asset.browser_download_url);
    const answer = await this.call({ method: 'GET', path: `${this.origin}${named.pathname}${named.search}` });
    return answer.body;
  }

  /**
   * Link rel="next", else X-Total-Count. Of the link only the query is used: Gitea builds it from its
   * ROOT_URL, which need not be GITEA_URL.
   */
  private nextPagePath(answer: GiteaAnswer, seen: number, nextPage: number): string | undefined {
    const next = nextPageUrl(answer.header('link'));
    if (next) return this.releasesPage(new URL(next).search);
    const total = Number(answer.header('x-total-count'));
    return seen < total ? this.releasesPage(`?limit=${pageSize}&page=${nextPage}`) : undefined;
  }

  private releasesPage(query: string): string {
    return `${this.repoPath()}/releases${query}`;
  }

  private repoPath(): string {
    const [owner, name] = this.repo.split('/');
    return `/repos/${encodeURIComponent(owner ?? '')}/${encodeURIComponent(name ?? '')}`;
  }

  private async call(call: GiteaCall): Promise<GiteaAnswer> {
    return this.interpret(call, await this.exchange(call));
  }

  /** For look-ups and deletes, where a 404 means "not there" rather than a failure. */
  private async callUnlessAbsent(call: GiteaCall): Promise<GiteaAnswer | undefined> {
    const answer = await this.exchange(call);
    return answer.status === 404 ? undefined : this.interpret(call, answer);
  }

  /** One call, repeated with backoff on network errors, 5xx and 429. */
  private async exchange(call: GiteaCall): Promise<GiteaAnswer> {
    const url = this.urlOf(call);
    const policy = { ...defaultRetryPolicy, ...this.options.retry };
    for (let attempt = 1; ; attempt += 1) {
      let answer: GiteaAnswer;
      try {
        answer = await this.send(call, url);
      } catch (error) {
        // By shape, not instanceof: a network error made in another realm (a test runner's) is an Error too.
        const reason = typeof (error as { message?: unknown })?.message === 'string' ? (error as { message: string }).message : String(error);
        if (isUntrustedCertificate(error)) throw new GiteaCertificateError(call.method, url.pathname, url.host, reason);
        if (attempt >= policy.attempts) throw new GiteaUnreachableError(call.method, url.pathname, attempt, reason);
        await this.waitBeforeRetry(call.method, url.pathname, attempt, policy, reason);
        continue;
      }
      if (!isRetryableStatus(answer.status) || attempt >= policy.attempts) return answer;
      await this.waitBeforeRetry(call.method, url.pathname, attempt, policy, `status ${answer.status}`, answer.header('retry-after'));
    }
  }

  private urlOf(call: GiteaCall): URL {
    return new URL(call.path.startsWith('/') ? `${this.apiRoot}${call.path}` : call.path);
  }

  private async waitBeforeRetry(
    method: string,
    path: string,
    attempt: number,
    policy: RetryPolicy,
    reason: string,
    retryAfter?: string | string[],
  ): Promise<void> {
    const delayMs = retryDelayMs(policy, attempt, retryAfter);
    this.options.onRetry?.({ method, path, attempt: attempt + 1, attempts: policy.attempts, reason, delayMs });
    await sleep(delayMs);
  }

  private async send(call: GiteaCall, url: URL): Promise<GiteaAnswer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers['authorization'] = `token ${this.options.token}`;
    let body: Buffer | Readable | undefined;
    if (call.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = Buffer.from(JSON.stringify(call.json));
    } else if (call.form) {
      const form = call.form();
      Object.assign(headers, form.headers);
      body = form.body;
    }
    let response = await this.connections.send(url, { method: call.method, headers, body });
    // Only downloads are followed: an API call Gitea redirects (a renamed repository) or a proxy does
    // (http to https) is a setting to correct, which interpret() names, not a read to make anonymously.
    const isDownload = !call.path.startsWith('/');
    for (let hops = 0; isDownload && isRedirect(response.statusCode) && call.method === 'GET' && hops < maxRedirectHops; hops += 1) {
      await response.discard();
      const target = redirectTarget(response.header('location'), url);
      // Object storage (SERVE_DIRECT) answers with a signed URL on another host: it gets no token.
      const followHeaders = target.origin === this.origin ? headers : { accept: headers['accept']! };
      response = await this.connections.send(target, { method: 'GET', headers: followHeaders });
    }
    return answerOf(`${call.method} ${url.pathname}`, response, await response.bytes());
  }

  /**
   * What an API call's redirect says to change: Gitea answers 307 to the new name of a renamed or
   * transferred repository (services/context RedirectToRepo); anything else is GITEA_URL answering
   * from another address. Only the origin and path are repeated: never a query.
   */
  private redirectProblem(answer: GiteaAnswer): string {
    const target = redirectTarget(answer.header('location'), this.apiRoot);
    const apiPath = new URL(this.apiRoot).pathname;
    const moved = target.origin === this.origin ? new RegExp(`^${escapeRegExp(apiPath)}/repos/([^/]+)/([^/]+)/`).exec(target.pathname) : null;
    if (moved) {
      const repo = `${decodeURIComponent(moved[1]!)}/${decodeURIComponent(moved[2]!)}`;
      return `Gitea says ${this.repo} was renamed or moved to ${repo} (${answer.status}): set GITEA_REPO to ${repo}.`;
    }
    const root = `${target.origin}${target.pathname.split('/api/v1/')[0]!.replace(/\/+$/, '')}`;
    return `${this.giteaUrl} redirects Gitea's API to ${root} (${answer.status}): set GITEA_URL to ${root}, where Gitea answers; the token is never sent on to another address.`;
  }

  private interpret(call: GiteaCall, answer: GiteaAnswer): GiteaAnswer {
    const { status } = answer;
    if (status >= 200 && status < 300) return answer;
    if (isRedirect(status)) throw new GiteaRedirectError(this.redirectProblem(answer));
    const path = this.urlOf(call).pathname;
    // Gitea's API answers JSON: an HTML page there is a proxy's, whose 401/403/404 say nothing of the
    // token or the repository. Its 413 is the body limit, which on413 explains.
    const page = call.path.startsWith('/') && status !== 413 ? htmlPageTitle(answer) : undefined;
    if (page !== undefined) throw new ProxyAnswerError(status, call.method, path, page);
    const giteaMessage = errorMessageOf(answer);
    if (status === 401) {
      if (!this.options.token) throw new TokenRequiredError(this.giteaUrl);
      if (/user does not exist/i.test(giteaMessage)) throw new UnknownTokenError(this.giteaUrl);
    }
    if (status === 403) throw new PermissionDeniedError(this.repo, giteaMessage);
    if (status === 404 && call.onNotFound) throw call.onNotFound();
    if (status === 400 && call.on400) throw call.on400(giteaMessage);
    if (status === 409 && call.on409) throw call.on409();
    if (status === 422 && call.on422) throw call.on422(giteaMessage);
    if (status === 413 && call.on413) throw call.on413();
    throw new GiteaRequestError(status, call.method, path, giteaMessage);
  }
}

/** What is wrong with GITEA_URL, in one line saying how to set it; undefined when it is usable. */
export function giteaUrlProblem(giteaUrl: string): string | undefined {
  // Not repeated: a query or fragment may carry a token (?token=…), which must not reach a log.
  if (/[?#]/.test(giteaUrl)) return 'GITEA_URL has a query or fragment: set it to the Gitea web root, like https://gitea.example.com, and put the token in GITEA_REGISTRY_API_TOKEN.';
  // URL drops it, but the request paths are built from the text: it would fail later as a bare "Invalid URL".
  // Quoted as JSON: a line break in it stays on the message's one line.
  if (/\s/.test(giteaUrl)) return `GITEA_URL ${JSON.stringify(giteaUrl)} contains whitespace: set it like https://gitea.example.com, with nothing around it.`;
  const url = URL.canParse(giteaUrl) ? new URL(giteaUrl) : undefined;
  if (!url || !/^https?:$/.test(url.protocol)) return `GITEA_URL "${giteaUrl}" is not an http(s) URL: set it like https://gitea.example.com.`;
  // Not repeated: the credentials are what must not reach a log.
  if (url.username || url.password) return 'GITEA_URL carries credentials: remove them from the URL and put the token in GITEA_REGISTRY_API_TOKEN.';
  return undefined;
}

/** What is wrong with GITEA_REPO, in one line; undefined when it is owner/name. */
export function giteaRepoProblem(repo: string): string | undefined {
  return /^[^/\s]+\/[^/\s]+$/.test(repo) ? undefined : `GITEA_REPO ${JSON.stringify(repo)} is not owner/name: set it like admin/changemaker.lite.`;
}

/** Gitea's JSON; anything else (a proxy's sign-in page, a web site at GITEA_URL) is said in one line. */
function parseJson(answer: GiteaAnswer): unknown {
  const text = answer.body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    const page = htmlPageTitle(answer);
    const what = page === undefined ? `${answer.body.length} bytes of ${answer.header('content-type') || 'no stated type'}` : `"${page}", an HTML page`;
    throw new NotGiteaAnswerError(answer.request, answer.status, what);
  }
}

function answerOf(request: string, response: HttpResponse, body: Buffer): GiteaAnswer {
  return { request, status: response.statusCode, header: (name) => response.header(name), body };
}

/** An asset's bytes as a form's file: streamed from disk again on every attempt, or the text. */
function formFile(name: string, content: AssetContent): FormFile {
  if ('path' in content) return { name, size: content.size, open: () => createReadStream(content.path) };
  const bytes = Buffer.from(content.text);
  return { name, size: bytes.length, open: () => Readable.from([bytes]) };
}

/** Gitea's JSON `message`; else the body in one line: an HTML page by its title, the rest of it is noise. */
function errorMessageOf(answer: GiteaAnswer): string {
  const text = answer.body.toString('utf8').trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') return oneLine(parsed.message);
  } catch {
    // Plain text or a proxy's HTML page, below.
  }
  const page = htmlPageTitle(answer);
  return page === undefined ? oneLine(text).slice(0, 200) : `"${page}", an HTML page`;
}

/** The title of an HTML answer, in one line; undefined when the answer is not HTML. */
function htmlPageTitle(answer: GiteaAnswer): string | undefined {
  const text = answer.body.toString('utf8').trim();
  return isHtml(answer, text) ? htmlTitle(text) : undefined;
}

function isHtml(answer: GiteaAnswer, text: string): boolean {
  return /^text\/html\b/i.test(answer.header('content-type') ?? '') || /^<(!doctype html|html)\b/i.test(text);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The page's title, else its text without tags: one line, short. */
function htmlTitle(page: string): string {
  return (pageTitle(page) ?? oneLine(page.replace(/<[^>]*>/g, ' '))).slice(0, 100);
}
