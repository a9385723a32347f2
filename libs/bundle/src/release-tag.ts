import { valid } from 'semver';
import { InvalidReleaseTagError } from './bundle-errors';

/** A release tag `v<semver>`; the version is the tag without its `v`. */
export class ReleaseTag {
  readonly version: string;

  constructor(readonly tag: string) {
    const version = tag.startsWith('v') ? valid(tag.slice(1)) : null;
    if (version === null || version !== tag.slice(1)) throw new InvalidReleaseTagError(tag);
    this.version = version;
  }
}
