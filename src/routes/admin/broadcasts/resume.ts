import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { resumeBroadcast } from '../../../core/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { errorResponse, jsonResponse } from '../../schemas.js';
import { adminSecurity, IdParam } from '../schema.js';
import { BroadcastSchema, broadcastErrors } from './schema.js';

const route = createRoute({
  method: 'post',
  operationId: 'resumeBroadcast',
  summary: 'Resume a paused broadcast.',
  path: '/admin/v1/broadcasts/{id}/resume',
  tags: ['Broadcasts'],
  security: adminSecurity,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(BroadcastSchema, 'After resume'),
    409: errorResponse('Not possible in its state'),
    ...broadcastErrors,
  },
});

export function registerResumeBroadcast(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(await resumeBroadcast(c.get('services'), c.req.valid('param').id), 200));
}
