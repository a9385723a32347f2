export * from './free-port';
export * from './registry-server';
export * from './gitea';
