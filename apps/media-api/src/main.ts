import { ServiceConfig, runService } from '@changemaker/service-health';
import { SERVICE, createApp } from './app';

async function listen({ host, port }: ServiceConfig): Promise<() => unknown> {
  const app = createApp();
  await app.listen({ host, port });
  return () => app.close();
}

void runService({ service: SERVICE, defaultPort: 4100, listen });
