import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { createBroadcast } from '../../../core/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { errorResponse, jsonBody, jsonResponse } from '../../schemas.js';
import { adminSecurity, unauthorized } from '../schema.js';
import { BroadcastCreate, BroadcastSchema } from './schema.js';

const route = createRoute({
  method: 'post',
  operationId: 'createBroadcast',
  summary: 'Create a draft broadcast; its props are checked against the template.',
  path: '/admin/v1/broadcasts',
  tags: ['Broadcasts'],
  security: adminSecurity,
  request: { body: jsonBody(BroadcastCreate) },
  responses: {
    201: jsonResponse(BroadcastSchema, 'Draft created'),
    422: errorResponse('Invalid broadcast or props, an unknown template or topic'),
    ...unauthorized,
  },
});

export function registerCreateBroadcast(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(await createBroadcast(c.get('services'), c.req.valid('json')), 201));
}
