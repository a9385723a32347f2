export * from './git-remote';
export * from './image-check';
export * from './product-release';
export * from './release-flow-errors';
export * from './release-assets';
export * from './release-stage';
export * from './release-preflight';
export * from './unfinished-release';
