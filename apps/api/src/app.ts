import express, { Express } from 'express';
import { healthReport } from '@changemaker/service-health';

export const SERVICE = 'api';

export function createApp(): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/api/health', (_request, response) => {
    response.json(healthReport(SERVICE));
  });
  return app;
}
