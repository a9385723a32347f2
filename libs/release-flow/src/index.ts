export * from './git-remote';
export * from './image-check';
export * from './product-release';
export * from './release-flow-errors';
export * from './release-stage';
