import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { subscriberStats } from '../../../core/subscribers.js';
import type { AppEnv } from '../../env.js';
import { jsonResponse } from '../../schemas.js';
import { adminSecurity, unauthorized } from '../schema.js';
import { SubscriberStats } from './schema.js';

const route = createRoute({
  method: 'get',
  operationId: 'getSubscriberStats',
  summary: 'Subscriber counts by status and by topic.',
  path: '/admin/v1/stats',
  tags: ['Admin'],
  security: adminSecurity,
  responses: { 200: jsonResponse(SubscriberStats, 'Counts by status and topic'), ...unauthorized },
});

export function registerSubscriberStats(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(await subscriberStats(c.get('services').db), 200));
}
