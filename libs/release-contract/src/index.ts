export * from './image-naming';
export * from './image-result';
export * from './previous-release';
export * from './release-files';
export * from './release-manifest';
export * from './version-file';
export * from './gitea-location';
export * from './release-signing';
