import type { CreateDependencies } from '@nx/devkit';
import type { DockerTargetsOptions } from './plugins/docker-targets';
import { createDependencies as productDependencies } from './plugins/product-dependencies';
import { createToolchainDependencies } from './plugins/toolchain-dependencies';

export { createNodes } from './plugins/docker-targets';
export type { DockerTargetsOptions } from './plugins/docker-targets';

/** The product on its images, and every project on the packages that build its image. */
export const createDependencies: CreateDependencies<DockerTargetsOptions> = async (options, context) => [
  ...(await productDependencies(options, context)),
  ...(await createToolchainDependencies(options, context)),
];
