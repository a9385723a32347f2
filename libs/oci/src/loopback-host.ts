const loopbackHost = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/;

/**
 * Whether `host[:port]` is this machine (localhost, a 127.x address, [::1]): a registry there is
 * spoken to in plain http, and nothing there is reached through a proxy.
 */
export function isLoopbackRegistry(registry: string): boolean {
  return loopbackHost.test(registry);
}
