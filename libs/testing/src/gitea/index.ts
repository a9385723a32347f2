export * from './gitea-contract';
export * from './gitea-faults';
export * from './gitea-test-server';
