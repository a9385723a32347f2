import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { ComposeFileError } from './bundle-errors';

/** The variable a workspace service's container reports as its version on /api/health and /health. */
export const appVersionVariable = 'APP_VERSION';

interface TextEdit {
  start: number;
  end: number;
  text: string;
}

/**
 * Sets each service's `APP_VERSION` in its `environment` to `version` (e.g. `${IMAGE_TAG:-v1.2.3}`,
 * the expression its image tag is pinned to), editing only those values in the text.
 *
 * An image tagged registry-side for a release keeps the config it was built with, and so the
 * APP_VERSION baked into it (`unknown` for CI's unversioned builds, or an older release's): the
 * compose file, not the image, tells the running container which release it was installed as.
 * A service without an `APP_VERSION` entry is refused rather than given one, so the source file
 * says what the release ships.
 */
export function pinAppVersions(composeFile: string, composeText: string, services: readonly string[], version: string): string {
  const document = parseDocument(composeText);
  const edits = services.map((service) => appVersionEdit(composeFile, service, document.getIn(['services', service, 'environment'], true) as Node | undefined, version));
  return edits
    .sort((a, b) => b.start - a.start)
    .reduce((text, edit) => `${text.slice(0, edit.start)}${edit.text}${text.slice(edit.end)}`, composeText);
}

function appVersionEdit(composeFile: string, service: string, environment: Node | undefined, version: string): TextEdit {
  if (isMap(environment)) {
    const pair = environment.items.find((item) => isScalar(item.key) && item.key.value === appVersionVariable);
    if (pair && isScalar(pair.value) && pair.value.value !== null && pair.value.range) {
      return { start: pair.value.range[0], end: pair.value.range[1], text: version };
    }
  } else if (isSeq(environment)) {
    const entry = environment.items.find((item) => isScalar(item) && String(item.value).startsWith(`${appVersionVariable}=`));
    if (isScalar(entry) && entry.range) return { start: entry.range[0], end: entry.range[1], text: `${appVersionVariable}=${version}` };
  }
  throw new ComposeFileError(
    `${composeFile}: service ${service} sets no ${appVersionVariable} in its environment; add \`${appVersionVariable}: \${IMAGE_TAG:-latest}\` under its environment, so its container reports the release it runs (its image may carry an older build's)`,
  );
}
