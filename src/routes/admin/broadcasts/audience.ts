import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { audienceOf, getBroadcastRow } from '../../../core/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { jsonResponse } from '../../schemas.js';
import { adminSecurity, IdParam } from '../schema.js';
import { Audience, broadcastErrors } from './schema.js';

const route = createRoute({
  method: 'get',
  operationId: 'getBroadcastAudience',
  summary: 'Who would receive the broadcast if it were sent now.',
  path: '/admin/v1/broadcasts/{id}/audience',
  tags: ['Broadcasts'],
  security: adminSecurity,
  request: { params: IdParam },
  responses: { 200: jsonResponse(Audience, 'Who would receive it now, and the excluded counts'), ...broadcastErrors },
});

export function registerBroadcastAudience(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const s = c.get('services');
    const b = await getBroadcastRow(s.db, c.req.valid('param').id);
    return c.json(await audienceOf(s.db, b.topic), 200);
  });
}
