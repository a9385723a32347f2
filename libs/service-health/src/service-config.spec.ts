import { InvalidPortError } from './invalid-port-error';
import { serviceConfig } from './service-config';

describe('serviceConfig', () => {
  it('listens on all interfaces and the default port when the environment says nothing', () => {
    expect(serviceConfig('api', 4000, {})).toEqual({ service: 'api', host: '0.0.0.0', port: 4000 });
    expect(serviceConfig('api', 4000, { PORT: '' }).port).toBe(4000);
  });

  it('takes PORT and HOST from the environment', () => {
    expect(serviceConfig('media-api', 4100, { PORT: '8080', HOST: '127.0.0.1' })).toEqual({
      service: 'media-api',
      host: '127.0.0.1',
      port: 8080,
    });
    expect(serviceConfig('media-api', 4100, { PORT: '0' }).port).toBe(0);
  });

  it.each(['http', '-1', '4000.5', '65536', ' 4000'])('refuses PORT=%j with a line saying how to fix it', (value) => {
    const read = () => serviceConfig('api', 4000, { PORT: value });

    expect(read).toThrow(InvalidPortError);
    expect(read).toThrow(`PORT must be a whole number from 0 to 65535, got "${value}"`);
  });
});
