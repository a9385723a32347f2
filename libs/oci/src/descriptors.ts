/** What registries, OCI layouts and manifests say about content; every module of libs/oci shares these. */

export interface BlobDescriptor {
  digest: string;
  size: number;
}

export interface ManifestDescriptor {
  digest: string;
  mediaType: string;
  size: number;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** An entry of an index's `manifests`. */
export interface ChildDescriptor extends BlobDescriptor {
  mediaType: string;
  platform?: Platform;
  annotations?: Record<string, string>;
}
