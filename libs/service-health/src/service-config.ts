import { InvalidPortError } from './invalid-port-error';

/** Where a service listens. */
export interface ServiceConfig {
  service: string;
  host: string;
  port: number;
}

const HIGHEST_PORT = 65535;

/** All interfaces by default: inside a container, loopback is unreachable from the proxy. */
const DEFAULT_HOST = '0.0.0.0';

export function serviceConfig(
  service: string,
  defaultPort: number,
  env: NodeJS.ProcessEnv = process.env,
): ServiceConfig {
  return {
    service,
    host: env.HOST || DEFAULT_HOST,
    port: env.PORT === undefined || env.PORT === '' ? defaultPort : parsePort(env.PORT),
  };
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > HIGHEST_PORT) throw new InvalidPortError(value);
  return port;
}
