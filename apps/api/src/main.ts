import { ServiceConfig, runService } from '@changemaker/service-health';
import { SERVICE, createApp } from './app';

function listen({ host, port }: ServiceConfig): Promise<() => unknown> {
  return new Promise((resolve, reject) => {
    const server = createApp().listen(port, host, (error?: Error) => {
      if (error) reject(error);
      else resolve(() => server.close());
    });
  });
}

void runService({ service: SERVICE, defaultPort: 4000, listen });
