export { createNodes } from './plugins/docker-targets';
export { createDependencies } from './plugins/product-dependencies';
export type { DockerTargetsOptions } from './plugins/docker-targets';
