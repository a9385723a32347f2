export * from './gitea-errors';
export * from './link-header';
export * from './release-client';
export * from './release-types';
export * from './retry-policy';
