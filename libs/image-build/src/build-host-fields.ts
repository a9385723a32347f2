/**
 * What buildah and podman write into a docker-format image config about the machine that built
 * it, not about the image: the build container's id (`container`) and hostname, the docker
 * classic builder's `container_config`, the local id of the previous step (`parent`) and the
 * layer cache's `FROM <local id>` history comments (`FROM <cache image>` when the step before came
 * from the registry). Two builds of one commit on two machines differ in these alone. BuildKit
 * writes none of them.
 */
interface DockerImageConfig {
  created?: unknown;
  container?: unknown;
  container_config?: unknown;
  parent?: unknown;
  config?: { Hostname?: unknown; Labels?: Record<string, string> | null };
  history?: Array<{ comment?: unknown }>;
}

/** `FROM <local id>`, or `FROM <cache repository>:<cache key>` after a step pulled from the registry-backed cache. */
const localImageIdComment = /^FROM (?:\S+:)?[0-9a-f]{12,64}$/;

/** What the pushed config says of the commit, whatever the build wrote. */
export interface CommitStamp {
  /** An RFC 3339 time: the commit's, where the layers may carry a fixed one. */
  created: string;
  /** Labels added after the build, where a label step would cost a cache miss on every commit. */
  labels: Readonly<Record<string, string>>;
}

/** The config without the build machine's fields and with the commit's stamp, or undefined when it is that already. */
export function reproducibleConfig(bytes: Buffer, stamp: CommitStamp): Buffer | undefined {
  const config = JSON.parse(bytes.toString('utf8')) as DockerImageConfig;
  let changed = config.created !== stamp.created;
  config.created = stamp.created;
  const drop = (owner: object, key: string) => {
    if (!(key in owner)) return;
    delete (owner as Record<string, unknown>)[key];
    changed = true;
  };
  drop(config, 'container');
  drop(config, 'container_config');
  drop(config, 'parent');
  if (config.config) drop(config.config, 'Hostname');
  for (const entry of config.history ?? []) {
    if (typeof entry.comment === 'string' && localImageIdComment.test(entry.comment)) drop(entry, 'comment');
  }
  for (const [name, value] of Object.entries(stamp.labels)) {
    config.config ??= {};
    config.config.Labels ??= {};
    if (config.config.Labels[name] === value) continue;
    config.config.Labels[name] = value;
    changed = true;
  }
  return changed ? Buffer.from(JSON.stringify(config)) : undefined;
}
