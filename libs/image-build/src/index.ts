export * from './build-and-push';
export { ignoreFileFor, sentFiles } from './build-context';
export * from './command-runner';
export * from './container-engine';
export * from './engine-choice';
export * from './errors';
export * from './git-revision';
export * from './tag-pattern';
export * from './image-push-plan';
