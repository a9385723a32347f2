export { createNodes } from './plugins/docker-targets';
export type { DockerTargetsOptions } from './plugins/docker-targets';
