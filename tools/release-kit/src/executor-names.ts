/**
 * How a target names one of this plugin's executors: by the path of their collection from the
 * workspace root (executors/package.json). Nx loads an executor named so with a plain require; one
 * named by a local package (`@changemaker/release-kit:…`) makes it register its TypeScript
 * transpiler in every task process (see load-compiled.js).
 */
export const executorCollection = './tools/release-kit/executors';

export type ExecutorName = 'abandon-release' | 'docker-build-push' | 'mirror-images' | 'package-release' | 'publish-release' | 'release-product';

export function executorNamed(name: ExecutorName): string {
  return `${executorCollection}:${name}`;
}
