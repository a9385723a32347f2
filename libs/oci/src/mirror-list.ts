import { readFile } from 'node:fs/promises';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { findNodeAtLocation, parse as parseJsonc, parseTree, printParseErrorCode, type ParseError, type ParseErrorCode } from 'jsonc-parser';
import { ImageReference } from './image-reference';
import mirrorListSchema from './mirror-images.schema.json';
import { InvalidReferenceError, OciError } from './oci-errors';
import { carriesCredentials, credentialsInReference, withoutCredentials } from './reference-credentials';

/** One pinned third-party image of docker/mirror-images.json. */
export interface MirrorImage {
  group: string;
  source: ImageReference;
  /** Short name and tag in the private registry, e.g. jitsi-web:stable-9823. */
  target: string;
  /** Where it stands, for messages: the list file and line. */
  file: string;
  line: number;
}

export interface MirrorList {
  /** Group names in file order, each with its images in file order. */
  groups: Map<string, MirrorImage[]>;
}

/** The mirror list cannot be used; `problems` has one line per mistake, each with file:line. */
export class MirrorListError extends OciError {
  constructor(readonly file: string, readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${file} has ${problems.length} problems:\n  ${problems.join('\n  ')}`);
  }
}

interface RawImage {
  source: string;
  target: string;
}

interface RawList {
  groups: Record<string, { images: RawImage[] }>;
}

/**
 * The schema every mirror list is checked against, built into the library (no file to find at run
 * time); the one a list's `$schema` names is for the editor only.
 */
export { mirrorListSchema };

/** Reads and validates a mirror list against the schema this library ships; messages name it `shownAs`. */
export async function loadMirrorList(file: string, shownAs = file): Promise<MirrorList> {
  return parseMirrorList(await readText(file, shownAs), shownAs);
}

async function readText(file: string, shownAs: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new MirrorListError(shownAs, [`${shownAs} cannot be read (${(error as NodeJS.ErrnoException).code}); check the manifest option`]);
  }
}

/**
 * Validates everything before anything is copied: JSON syntax, the schema, every reference,
 * and that no two sources claim one target name.
 */
export function parseMirrorList(text: string, file: string): MirrorList {
  const raw = parseJson(text, file);
  const tree = parseTree(text);
  const lineOf = (path: Array<string | number>) => {
    const node = tree && findNodeAtLocation(tree, path);
    return node ? lineAt(text, node.offset) : 1;
  };
  const validate = schemaValidator();
  if (!validate(raw)) {
    throw new MirrorListError(file, (validate.errors ?? []).map((error) => describeSchemaError(file, error, raw, lineOf)));
  }
  const problems: string[] = [];
  const groups = new Map<string, MirrorImage[]>();
  for (const [group, { images }] of Object.entries(raw.groups)) {
    groups.set(group, images.flatMap((image, index) => {
      const line = lineOf(['groups', group, 'images', index]);
      try {
        return [{ group, source: ImageReference.parse(image.source), target: validTarget(image.target), file, line }];
      } catch (error) {
        problems.push(`${file}:${line}: ${(error as Error).message}`);
        return [];
      }
    }));
  }
  problems.push(...findNameClashes(file, [...groups.values()].flat()));
  if (problems.length > 0) throw new MirrorListError(file, problems);
  return { groups };
}

/**
 * Ajv is loaded when a list is first read, not with this library: loading it costs about 60 ms of
 * CPU, which every release task process paid, and the image tasks never read a mirror list.
 * The schema is always this library's own (a caller cannot pass another), checked against JSON
 * Schema's meta-schema by its spec, so it is not checked again here: that check was most of the
 * compile, about 30 ms in each of the two processes of a release that read the list.
 */
function schemaValidator(): ValidateFunction<RawList> {
  const { default: Ajv } = require('ajv') as typeof import('ajv');
  return new Ajv({ allErrors: true, validateSchema: false }).compile<RawList>(mirrorListSchema);
}

/** The images of the named groups; an unknown group name is an error listing the known ones. */
export function selectGroups(list: MirrorList, names: string[] | undefined): MirrorImage[] {
  if (!names || names.length === 0) return [...list.groups.values()].flat();
  const unknown = names.filter((name) => !list.groups.has(name));
  if (unknown.length > 0) {
    throw new MirrorListError('groups', [`unknown group ${unknown.map((n) => `"${n}"`).join(', ')}; the groups are ${[...list.groups.keys()].join(', ')}`]);
  }
  return names.flatMap((name) => list.groups.get(name) ?? []);
}

function parseJson(text: string, file: string): unknown {
  const errors: ParseError[] = [];
  const value = parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length === 0) return value;
  const [first] = errors;
  throw new MirrorListError(file, [`${file}:${lineAt(text, first.offset)}: not valid JSON: ${jsonErrorText(first.error)}`]);
}

function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

function jsonErrorText(code: ParseErrorCode): string {
  return printParseErrorCode(code).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

function describeSchemaError(file: string, error: ErrorObject, raw: unknown, lineOf: (path: Array<string | number>) => number): string {
  const path = error.instancePath.split('/').slice(1).map((part) => (/^\d+$/.test(part) ? Number(part) : part.replace(/~1/g, '/').replace(/~0/g, '~')));
  const imagePath = path.slice(0, 4);
  const image = imagePath.length === 4 ? (valueAt(raw, imagePath) as Partial<RawImage> | undefined) : undefined;
  const naming = image?.source ? ` (image ${withoutCredentials(image.source)})` : '';
  const where = error.instancePath ? error.instancePath.slice(1).replace(/\//g, '.') : 'the top level';
  const source = valueAt(raw, path);
  if (path[4] === 'source' && typeof source === 'string' && carriesCredentials(source)) return `${file}:${lineOf(path)}: ${where}${naming} ${credentialsInReference}`;
  const extra = error.keyword === 'additionalProperties' ? ` "${(error.params as { additionalProperty: string }).additionalProperty}"` : '';
  return `${file}:${lineOf(path)}: ${where}${naming} ${error.message}${extra}`;
}

function valueAt(value: unknown, path: Array<string | number>): unknown {
  return path.reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), value);
}

function validTarget(target: string): string {
  const ref = ImageReference.of(target, 'target.invalid', target.split(':')[0], target.split(':')[1]);
  if (!ref.tag) throw new InvalidReferenceError(target, 'a target needs a tag');
  return target;
}

/** Two upstream repositories landing in one target repository would overwrite each other's tags. */
function findNameClashes(file: string, images: MirrorImage[]): string[] {
  const byTarget = new Map<string, MirrorImage[]>();
  for (const image of images) {
    const name = image.target.split(':')[0];
    byTarget.set(name, [...(byTarget.get(name) ?? []), image]);
  }
  const problems: string[] = [];
  for (const [name, claimants] of byTarget) {
    const first = claimants[0];
    for (const other of claimants.slice(1)) {
      if (other.source.name !== first.source.name) {
        problems.push(`${file}:${other.line}: target "${name}" is claimed by both ${first.source} (line ${first.line}) and ${other.source}; give one an explicit short name`);
      } else if (other.target === first.target) {
        problems.push(`${file}:${other.line}: target "${other.target}" is listed twice (lines ${first.line} and ${other.line})`);
      }
    }
  }
  return problems;
}
