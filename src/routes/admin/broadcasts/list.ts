import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { listBroadcasts } from '../../../core/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { jsonResponse } from '../../schemas.js';
import { adminSecurity, unauthorized } from '../schema.js';
import { BroadcastList } from './schema.js';

const route = createRoute({
  method: 'get',
  operationId: 'listBroadcasts',
  summary: 'List broadcasts, newest first.',
  path: '/admin/v1/broadcasts',
  tags: ['Broadcasts'],
  security: adminSecurity,
  responses: { 200: jsonResponse(BroadcastList, 'Broadcasts, newest first'), ...unauthorized },
});

export function registerListBroadcasts(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json({ data: await listBroadcasts(c.get('services').db) }, 200));
}
