import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { pauseBroadcast } from '../../../core/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { errorResponse, jsonResponse } from '../../schemas.js';
import { adminSecurity, IdParam } from '../schema.js';
import { BroadcastSchema, broadcastErrors } from './schema.js';

const route = createRoute({
  method: 'post',
  operationId: 'pauseBroadcast',
  summary: 'Pause a broadcast that is sending or scheduled.',
  path: '/admin/v1/broadcasts/{id}/pause',
  tags: ['Broadcasts'],
  security: adminSecurity,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(BroadcastSchema, 'After pause'),
    409: errorResponse('Not possible in its state'),
    ...broadcastErrors,
  },
});

export function registerPauseBroadcast(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(await pauseBroadcast(c.get('services'), c.req.valid('param').id), 200));
}
