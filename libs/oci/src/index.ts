export * from './digest';
export * from './image-reference';
export * from './media-types';
export * from './oci-errors';
export * from './registry-client';
export * from './registry-credentials';
export { apiHost, isLoopbackRegistry, type RegistryRequestEvent } from './registry-transport';
export { defaultRetryPolicy, type RetryPolicy } from './retry-policy';
