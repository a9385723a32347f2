export * from './free-port';
export * from './registry-server';
export * from './buildah-sandbox';
export * from './gitea';
export * from './throwaway-workspace';
export * from './synthetic-images';
export * from './fault-proxy';
export * from './token-server';
