import { ServiceConfig, serviceConfig } from './service-config';
import { closeOnShutdownSignals, SignalSource } from './shutdown-signals';

/** Starts the server where the config says and resolves with the function that stops it. */
export type ListenFunction = (config: ServiceConfig) => Promise<() => unknown>;

export interface ServiceRun {
  service: string;
  defaultPort: number;
  listen: ListenFunction;
  env?: NodeJS.ProcessEnv;
  signals?: SignalSource;
}

/**
 * The one way api and media-api start: a bad PORT or a port already taken ends the process
 * with one line on stderr and exit code 1, not a stack trace.
 */
export async function runService(run: ServiceRun): Promise<boolean> {
  const { service, defaultPort, listen, env = process.env, signals = process } = run;
  try {
    const config = serviceConfig(service, defaultPort, env);
    const close = await listen(config);
    closeOnShutdownSignals(close, signals);
    console.log(`${service} listening on http://${config.host}:${config.port}`);
    return true;
  } catch (error) {
    console.error(`${service} cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
    return false;
  }
}
