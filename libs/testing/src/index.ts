export * from './free-port';
export * from './registry-server';
