import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { cancelBroadcast } from '../../../core/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { errorResponse, jsonResponse } from '../../schemas.js';
import { adminSecurity, IdParam } from '../schema.js';
import { BroadcastSchema, broadcastErrors } from './schema.js';

const route = createRoute({
  method: 'post',
  operationId: 'cancelBroadcast',
  summary: 'Cancel a broadcast; what was sent stays sent.',
  path: '/admin/v1/broadcasts/{id}/cancel',
  tags: ['Broadcasts'],
  security: adminSecurity,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(BroadcastSchema, 'After cancel'),
    409: errorResponse('Not possible in its state'),
    ...broadcastErrors,
  },
});

export function registerCancelBroadcast(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(await cancelBroadcast(c.get('services'), c.req.valid('param').id), 200));
}
