import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { TEXTS } from '../../core/texts.js';
import type { AppEnv } from '../env.js';
import { envelope } from '../http.js';
import { errorResponse, jsonResponse } from '../schemas.js';

const route = createRoute({
  method: 'get',
  operationId: 'getReadiness',
  security: [],
  path: '/readyz',
  tags: ['Health'],
  summary: 'Readiness: the database answers.',
  responses: {
    200: jsonResponse(z.object({ status: z.literal('ready'), database: z.string() }), 'Ready'),
    503: errorResponse('Database unreachable'),
  },
});

export function registerReadyz(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const { database, config } = c.get('services');
    try {
      await withTimeout(database.ping(), config.DB_TIMEOUT_MS);
      return c.json({ status: 'ready' as const, database: database.kind }, 200);
    } catch {
      return c.json(envelope(c, 'service_unavailable', TEXTS.serverFault), 503);
    }
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
