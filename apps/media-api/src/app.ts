import Fastify, { FastifyInstance } from 'fastify';
import { healthReport } from '@changemaker/service-health';

export const SERVICE = 'media-api';

export function createApp(): FastifyInstance {
  // runService announces the address; Fastify's pino logger would add a second, JSON, voice.
  const app = Fastify({ logger: false });
  app.get('/api/health', async () => healthReport(SERVICE));
  return app;
}
