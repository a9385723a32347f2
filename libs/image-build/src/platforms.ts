import { endianness } from 'node:os';

/** An image's platform as OCI names it: os/architecture, with a variant where one is meaningful (linux/arm/v7). */
export type Platform = string;

/**
 * The platforms a build makes: those asked for, or, when none are, the one the engine builds for
 * by default. That default is the host's own, taken from Node's process.arch: buildah and podman
 * build for the platform their binary runs on (GOOS/GOARCH, the host's), and docker's BuildKit for
 * its daemon's, which is the host's too, or on macOS and Windows that of Docker Desktop's (or
 * podman machine's) Linux VM, which has the host's architecture. The os is always linux: these
 * engines build Linux images everywhere. Where this guess is wrong (a remote DOCKER_HOST of another
 * architecture, DOCKER_DEFAULT_PLATFORM), the image the build pushes says so and is not kept under
 * the inputs tag (build-and-push.ts), and an image under it is reused only when its platforms are
 * exactly these (inputs-image.ts).
 */
export function effectivePlatforms(requested: readonly string[]): { platforms: Platform[]; engineDefault: boolean } {
  if (requested.length === 0) return { platforms: [hostPlatform()], engineDefault: true };
  return { platforms: [...new Set(requested.map(normalizePlatform))].sort(), engineDefault: false };
}

export function hostPlatform(): Platform {
  const architecture = nodeToOciArchitecture[process.arch] ?? process.arch;
  if (architecture === 'ppc64') return normalizePlatform(`linux/${endianness() === 'LE' ? 'ppc64le' : 'ppc64'}`);
  if (architecture === 'arm') {
    const armVersion = (process.config.variables as { arm_version?: string }).arm_version;
    return normalizePlatform(`linux/arm${armVersion ? `/v${armVersion}` : ''}`);
  }
  return normalizePlatform(`linux/${architecture}`);
}

const nodeToOciArchitecture: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/**
 * One spelling per platform, as containerd normalizes them: arm64 and arm64/v8 are one platform,
 * and so are arm and arm/v7, amd64 and amd64/v1; aliases (x86_64, aarch64) take their OCI names.
 */
export function normalizePlatform(platform: string): Platform {
  const [os = '', architecture = '', variant = ''] = platform.toLowerCase().split('/');
  return platformOf(os, architecture, variant);
}

/** The platform of an image config's or a manifest list entry's os, architecture and variant. */
export function platformOf(os: string | undefined, architecture: string | undefined, variant?: string): Platform {
  let arch = (architecture ?? '').toLowerCase();
  let version = (variant ?? '').toLowerCase();
  if (version && /^\d+$/.test(version)) version = `v${version}`;
  if (arch === 'x86_64' || arch === 'x86-64') arch = 'amd64';
  if (arch === 'i386') arch = '386';
  if (arch === 'aarch64') arch = 'arm64';
  if (arch === 'armhf') [arch, version] = ['arm', 'v7'];
  if (arch === 'armel') [arch, version] = ['arm', 'v6'];
  if (arch === 'amd64' && version === 'v1') version = '';
  if (arch === 'arm64' && version === 'v8') version = '';
  if (arch === 'arm' && version === '') version = 'v7';
  return [(os ?? '').toLowerCase(), arch, ...(version ? [version] : [])].join('/');
}
