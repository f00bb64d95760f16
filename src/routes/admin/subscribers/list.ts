import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { listSubscribers } from '../../../core/subscribers.js';
import type { AppEnv } from '../../env.js';
import { errorResponse, jsonResponse } from '../../schemas.js';
import { adminSecurity, unauthorized } from '../schema.js';
import { SubscriberListQuery, SubscriberPage } from './schema.js';

const route = createRoute({
  method: 'get',
  operationId: 'listSubscribers',
  summary: 'List subscribers, newest first, filtered by status, topic or address.',
  path: '/admin/v1/subscribers',
  tags: ['Admin'],
  security: adminSecurity,
  request: { query: SubscriberListQuery },
  responses: {
    200: jsonResponse(SubscriberPage, 'A page of subscribers, newest first, and the cursor of the next page'),
    422: errorResponse('A filter or cursor that is not valid'),
    ...unauthorized,
  },
});

export function registerListSubscribers(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(await listSubscribers(c.get('services').db, c.req.valid('query')), 200));
}
