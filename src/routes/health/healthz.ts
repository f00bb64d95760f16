import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';
import { jsonResponse } from '../schemas.js';

const route = createRoute({
  method: 'get',
  operationId: 'getHealth',
  security: [],
  path: '/healthz',
  tags: ['Health'],
  summary: 'Liveness: the process answers.',
  responses: { 200: jsonResponse(z.object({ status: z.literal('ok') }), 'Alive') },
});

export function registerHealthz(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, (c) => c.json({ status: 'ok' as const }, 200));
}
