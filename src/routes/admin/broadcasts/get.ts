import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { describeBroadcast } from '../../../core/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { jsonResponse } from '../../schemas.js';
import { adminSecurity, IdParam } from '../schema.js';
import { BroadcastDetail, broadcastErrors } from './schema.js';

const route = createRoute({
  method: 'get',
  operationId: 'getBroadcast',
  summary: 'One broadcast with its delivery counts.',
  path: '/admin/v1/broadcasts/{id}',
  tags: ['Broadcasts'],
  security: adminSecurity,
  request: { params: IdParam },
  responses: { 200: jsonResponse(BroadcastDetail, 'Status and delivery counts'), ...broadcastErrors },
});

export function registerGetBroadcast(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(await describeBroadcast(c.get('services').db, c.req.valid('param').id), 200));
}
