const PRIVATE_REGISTRY = /^\$\{GITEA_REGISTRY(?::?-[^}]*)?\}\//;
const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** What a release pins its workspace images' tag to: the release tag, unless the operator sets IMAGE_TAG. */
export function releaseTagExpression(tag: string): string {
  return `\${IMAGE_TAG:-${tag}}`;
}

/**
 * A compose `image:` value such as `${GITEA_REGISTRY:-gitea.bnkops.com/admin}/postgres:16-alpine`,
 * split into the registry part and the `name:tag` part, with variables resolved to their defaults:
 * what a release install pulls when its .env overrides nothing.
 */
export class ImageReferenceTemplate {
  constructor(readonly written: string) {}

  /** Variables used without a default, which a release cannot pin. */
  get variablesWithoutDefault(): string[] {
    return [...this.written.matchAll(VARIABLE)].filter((match) => match[2] === undefined).map((match) => match[1] ?? match[4]);
  }

  get resolved(): string {
    return this.written.replace(VARIABLE, (_whole, _name, _operator, fallback: string | undefined) => fallback ?? '');
  }

  /** True when the registry part is the GITEA_REGISTRY variable, so every install pulls from its private registry. */
  get comesFromPrivateRegistry(): boolean {
    return PRIVATE_REGISTRY.test(this.written);
  }

  /** The repository below the private registry, e.g. `postgres` or `changemaker-api`. */
  get nameInRegistry(): string {
    const withoutTag = this.resolved.slice(0, this.tagSeparator());
    const registry = PRIVATE_REGISTRY.exec(this.written);
    return registry ? withoutTag.slice(new ImageReferenceTemplate(registry[0]).resolved.length) : withoutTag;
  }

  /**
   * The reference pulled from `registry` when the install's GITEA_REGISTRY names it: what a release
   * cut against that registry checks. An image not from the private registry stays as resolved.
   */
  resolvedIn(registry: string | undefined): string {
    if (!registry || !this.comesFromPrivateRegistry) return this.resolved;
    return `${registry}/${this.nameInRegistry}:${this.tag}`;
  }

  get tag(): string {
    return this.resolved.slice(this.tagSeparator() + 1);
  }

  /** The same image with its tag replaced by `${IMAGE_TAG:-<tag>}`. */
  pinnedTo(tag: string): string {
    const registryAndName = this.written.slice(0, this.writtenTagSeparator());
    return `${registryAndName}:${releaseTagExpression(tag)}`;
  }

  private tagSeparator(): number {
    const colon = this.resolved.lastIndexOf(':');
    return colon > this.resolved.lastIndexOf('/') ? colon : this.resolved.length;
  }

  /** The tag's colon in the written form: the last one outside `${...}`. */
  private writtenTagSeparator(): number {
    let depth = 0;
    let separator = this.written.length;
    for (let i = 0; i < this.written.length; i++) {
      if (this.written.startsWith('${', i)) depth++;
      else if (this.written[i] === '}' && depth > 0) depth--;
      else if (this.written[i] === ':' && depth === 0) separator = i;
      else if (this.written[i] === '/' && depth === 0) separator = this.written.length;
    }
    return separator;
  }
}
