/**
 * Failures the Gitea test server can be told to produce, each counted down as it fires, so a
 * test can say "the first upload's connection drops" or "the publishing PATCH fails for good".
 */
export class GiteaFaults {
  private droppedUploads = 0;
  private publishFailures = 0;
  private concurrentCreates = 0;
  private lostCreateAnswers = 0;
  private lostUploadAnswers = 0;
  private readonly injectedStatuses: Array<{ method: string; status: number }> = [];
  private readonly proxyPages: Array<{ method: string; status: number }> = [];
  private readonly corruptions = new Map<string, number>();

  /** The next `times` asset uploads lose their connection after the first bytes arrive. */
  dropConnectionDuringUpload(times = 1): void {
    this.droppedUploads = times;
  }

  /** The next `times` PATCHes that would publish a draft answer 500 (Infinity: every one). */
  failPublishingPatch(times = 1): void {
    this.publishFailures = times;
  }

  /** Before the next create, another publisher creates a release for the same tag: the POST answers 409. */
  createConcurrentlyBeforeNextPost(): void {
    this.concurrentCreates = 1;
  }

  /** The next create succeeds on the server, but the connection drops before its 201 is sent. */
  loseNextCreateAnswer(): void {
    this.lostCreateAnswers = 1;
  }

  /** The next upload is stored, but the connection drops before its 201 is sent. */
  loseNextUploadAnswer(): void {
    this.lostUploadAnswers = 1;
  }

  /** The next `times` API requests with this method answer `status` (e.g. 500, 503 or 429). */
  answerNext(method: string, status: number, times = 1): void {
    for (let i = 0; i < times; i += 1) this.injectedStatuses.push({ method, status });
  }

  /**
   * The next `times` API requests with this method are answered by nginx in front of Gitea, not by
   * Gitea: its HTML error page (502 when Gitea is down or restarting, 413 over client_max_body_size),
   * with 301 its redirect of every request to https, or with 200 an authenticating proxy's sign-in page.
   */
  answerNextFromProxy(method: string, status: number, times = 1): void {
    for (let i = 0; i < times; i += 1) this.proxyPages.push({ method, status });
  }

  /** The next `times` uploads of `name` are stored with one byte flipped, as a broken proxy would. */
  corruptUploadsOf(name: string, times = 1): void {
    this.corruptions.set(name, times);
  }

  /** Clears every pending fault. */
  reset(): void {
    this.droppedUploads = 0;
    this.publishFailures = 0;
    this.concurrentCreates = 0;
    this.lostCreateAnswers = 0;
    this.lostUploadAnswers = 0;
    this.injectedStatuses.length = 0;
    this.proxyPages.length = 0;
    this.corruptions.clear();
  }

  takeDroppedUpload(): boolean {
    return this.take('droppedUploads');
  }

  takePublishFailure(): boolean {
    return this.take('publishFailures');
  }

  takeConcurrentCreate(): boolean {
    return this.take('concurrentCreates');
  }

  takeLostCreateAnswer(): boolean {
    return this.take('lostCreateAnswers');
  }

  takeLostUploadAnswer(): boolean {
    return this.take('lostUploadAnswers');
  }

  takeInjectedStatus(method: string): number | undefined {
    return takeStatus(this.injectedStatuses, method);
  }

  takeProxyPage(method: string): number | undefined {
    return takeStatus(this.proxyPages, method);
  }

  corruptUpload(name: string, bytes: Buffer): Buffer {
    const remaining = this.corruptions.get(name) ?? 0;
    if (remaining <= 0 || bytes.length === 0) return bytes;
    this.corruptions.set(name, remaining - 1);
    const copy = Buffer.from(bytes);
    copy[0] = copy[0]! ^ 0xff;
    return copy;
  }

  private take(counter: 'droppedUploads' | 'publishFailures' | 'concurrentCreates' | 'lostCreateAnswers' | 'lostUploadAnswers'): boolean {
    if (this[counter] <= 0) return false;
    this[counter] -= 1;
    return true;
  }
}

function takeStatus(pending: Array<{ method: string; status: number }>, method: string): number | undefined {
  const index = pending.findIndex((fault) => fault.method === method);
  if (index < 0) return undefined;
  return pending.splice(index, 1)[0]!.status;
}
