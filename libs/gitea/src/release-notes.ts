/**
 * This version's section of a Keep-a-Changelog / nx release CHANGELOG.md: the text under a
 * `## 1.2.3`, `## v1.2.3` or `## [1.2.3]` heading (a date or link may follow) up to the next `## `.
 * The release's page has its own title, so the heading is left out; the link a heading gives
 * (nx release's compare view from the previous release) ends the notes instead.
 */
export function changelogSection(changelog: string, version: string): string | undefined {
  const bare = version.replace(/^v/, '');
  const escaped = bare.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const heading = new RegExp(`^##\\s+\\[?v?${escaped}\\]?(?=[\\s(]|$)`);
  const lines = changelog.split('\n');
  const start = lines.findIndex((line) => heading.test(line));
  if (start < 0) return undefined;
  const end = lines.findIndex((line, index) => index > start && /^##\s/.test(line));
  const section = lines.slice(start + 1, end < 0 ? undefined : end).join('\n').trim();
  if (!section) return undefined;
  const link = headingLinkOf(lines[start] ?? '');
  return link ? `${section}\n\n${link}` : section;
}

/** `## [1.1.0](…/compare/v1.0.0...v1.1.0) (date)` gives `All changes: [v1.0.0...v1.1.0](…)`. */
function headingLinkOf(heading: string): string | undefined {
  const url = /^##\s+\[[^\]]*\]\(([^)\s]+)\)/.exec(heading)?.[1];
  if (!url) return undefined;
  const range = /\/compare\/([^/]+\.\.\.[^/]+)$/.exec(url)?.[1];
  return `All changes: [${range ? decodeURIComponent(range) : 'compare'}](${url})`;
}

export interface ManifestSummary {
  version?: string;
  tag?: string;
  commit?: string | null;
  /** release-manifest.json lists `{service, reference}` objects; a name -> reference map also reads. */
  images?: unknown;
}

/** Notes for a release without a changelog entry: what was packaged, from release-manifest.json. */
export function generatedNotes(tag: string, assets: Array<{ name: string; sha256: string }>, manifest?: ManifestSummary): string {
  const lines = [`Changemaker Lite ${tag}`, ''];
  if (manifest?.commit) lines.push(`Built from commit ${manifest.commit}.`, '');
  const images = imageList(manifest?.images);
  if (images.length > 0) lines.push('Images:', ...images.map((image) => `- ${image}`), '');
  lines.push('Files (sha256):', ...assets.map((asset) => `- ${asset.name}: ${asset.sha256}`));
  return lines.join('\n');
}

function imageList(images: unknown): string[] {
  if (Array.isArray(images)) return images.map(describeImage);
  if (images && typeof images === 'object') return Object.entries(images).map(([name, ref]) => `${name}: ${String(ref)}`);
  return [];
}

function describeImage(image: unknown): string {
  if (typeof image === 'string') return image;
  const { service, reference } = (image ?? {}) as { service?: unknown; reference?: unknown };
  return typeof reference === 'string' ? `${typeof service === 'string' ? `${service}: ` : ''}${reference}` : JSON.stringify(image);
}
