import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { getSubscriber } from '../../../core/subscribers.js';
import type { AppEnv } from '../../env.js';
import { errorResponse, jsonResponse } from '../../schemas.js';
import { adminSecurity, IdParam, invalidId, unauthorized } from '../schema.js';
import { SubscriberDetail } from './schema.js';

const route = createRoute({
  method: 'get',
  operationId: 'getSubscriber',
  summary: 'One subscriber with topics and consent history.',
  path: '/admin/v1/subscribers/{id}',
  tags: ['Admin'],
  security: adminSecurity,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(SubscriberDetail, 'The subscriber with topics and consent history'),
    404: errorResponse('Not found'),
    ...unauthorized,
    ...invalidId,
  },
});

export function registerGetSubscriber(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(await getSubscriber(c.get('services').db, c.req.valid('param').id), 200));
}
