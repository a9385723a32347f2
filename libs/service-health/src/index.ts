export * from './health-report';
export * from './service-config';
export * from './invalid-port-error';
export * from './shutdown-signals';
export * from './service-runner';
