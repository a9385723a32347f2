// The timed side of bench/mirror/run.mjs: one mirror run in a process of its own, loading only the
// bundled library, as an installed CLI would, and nothing of the bench's tooling (esbuild). Like the
// executor, it reads the mirror lock first and writes it after.
// Prints one JSON line: bytes copied, time to start and to mirror, CPU time, peak RSS, requests other than HEAD.
const { ImageReference, RegistryClient, mirrorImages, readMirrorLock, recordMirrored, writeMirrorLock } = await import(new URL('../../tmp/bench-mirror/mirror-worker.mjs', import.meta.url).href);

const spec = JSON.parse(process.argv[2]);
const images = spec.images.map((image) => ({ group: 'bench', source: ImageReference.parse(image.source), target: image.target, file: 'bench', line: 0 }));
let requestsNotHead = 0;
const client = new RegistryClient({ credentials: {}, onRequest: (event) => { if (event.method !== 'HEAD') requestsNotHead++; } });
const started = performance.now();
const lock = await readMirrorLock(spec.lockFile);
const outcomes = await mirrorImages(images, { client, targetRegistry: spec.targetRegistry, concurrency: spec.concurrency, platforms: spec.platforms, lock });
await client.close();
await writeMirrorLock(spec.lockFile, recordMirrored(lock, outcomes, spec.platforms, new Set(images.map((image) => image.target))));
const failed = outcomes.filter((o) => o.status !== 'copied' && o.status !== 'current');
if (failed.length > 0) throw new Error(failed.map((o) => `${o.target}: ${o.status} ${o.error}`).join('\n'));
const bytes = outcomes.reduce((sum, o) => sum + (o.copy?.bytesCopied ?? 0), 0);
const cpu = process.cpuUsage();
console.log(JSON.stringify({ bytes, workMs: performance.now() - started, startupMs: started, cpuMs: (cpu.user + cpu.system) / 1000, copied: outcomes.filter((o) => o.status === 'copied').length, requestsNotHead, maxRssKiB: process.resourceUsage().maxRSS }));
