import { EventEmitter } from 'node:events';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ServiceConfig } from './service-config';
import { runService } from './service-runner';

describe('runService', () => {
  const servers: Server[] = [];
  const exitCodeBefore = process.exitCode;
  // Keeps the Jest worker's own SIGTERM handling untouched.
  let signals: EventEmitter;

  beforeEach(() => {
    signals = new EventEmitter();
  });

  afterEach(async () => {
    process.exitCode = exitCodeBefore;
    jest.restoreAllMocks();
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  const loopbackAnyPort = { PORT: '0', HOST: '127.0.0.1' };

  function listenOnHttp(config: ServiceConfig): Promise<() => unknown> {
    const server = createServer((_request, response) => response.end('up'));
    servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve(() => server.close()));
    });
  }

  it('starts the server where the environment says and announces it', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);

    const started = await runService({
      service: 'api',
      defaultPort: 4000,
      listen: listenOnHttp,
      env: loopbackAnyPort,
      signals,
    });

    expect(started).toBe(true);
    const { port } = servers[0].address() as AddressInfo;
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('up');
    expect(log).toHaveBeenCalledWith('api listening on http://127.0.0.1:0');
  });

  it('explains a bad PORT in one line and sets a failing exit code', async () => {
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);

    const started = await runService({ service: 'api', defaultPort: 4000, listen: listenOnHttp, env: { PORT: 'http' }, signals });

    expect(started).toBe(false);
    expect(servers).toHaveLength(0);
    expect(process.exitCode).toBe(1);
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/^api cannot start: PORT must be a whole number/));
  });

  it('explains a port that is already taken', async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    await runService({ service: 'api', defaultPort: 4000, listen: listenOnHttp, env: loopbackAnyPort, signals });
    const { port } = servers[0].address() as AddressInfo;

    const env = { PORT: String(port), HOST: '127.0.0.1' };
    const started = await runService({ service: 'media-api', defaultPort: 4100, listen: listenOnHttp, env, signals });

    expect(started).toBe(false);
    expect(process.exitCode).toBe(1);
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/^media-api cannot start: .*EADDRINUSE/));
  });

  it('stops the server on a shutdown signal', async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    await runService({ service: 'api', defaultPort: 4000, listen: listenOnHttp, env: loopbackAnyPort, signals });

    signals.emit('SIGTERM');

    expect(servers[0].listening).toBe(false);
  });
});
