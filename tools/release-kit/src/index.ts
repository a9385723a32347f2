import type { CreateDependencies } from '@nx/devkit';
import type { DockerTargetsOptions } from './plugins/plugin-options';
import { createContextDependencies } from './plugins/context-dependencies';
import { createDependencies as productDependencies } from './plugins/product-dependencies';
import { createToolchainDependencies } from './plugins/toolchain-dependencies';

export { createNodes } from './plugins/docker-targets';
export type { DockerTargetsOptions } from './plugins/plugin-options';

/** The product on its images, every image on the projects its context or Dockerfile is taken from, and every project on the packages that build its image. */
export const createDependencies: CreateDependencies<DockerTargetsOptions> = async (options, context) => [
  ...(await productDependencies(options, context)),
  ...(await createContextDependencies(options, context)),
  ...(await createToolchainDependencies(options, context)),
];
