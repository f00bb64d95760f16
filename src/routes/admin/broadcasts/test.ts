import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { queueTestSend } from '../../../core/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { errorResponse, jsonBody, jsonResponse } from '../../schemas.js';
import { adminSecurity, IdParam } from '../schema.js';
import { broadcastErrors, TestBody, TestSendResult } from './schema.js';

const route = createRoute({
  method: 'post',
  path: '/admin/v1/broadcasts/{id}/test',
  tags: ['Broadcasts'],
  security: adminSecurity,
  request: { params: IdParam, body: jsonBody(TestBody) },
  responses: {
    202: jsonResponse(TestSendResult, 'Test sends queued'),
    422: errorResponse('Invalid address'),
    ...broadcastErrors,
  },
});

export function registerTestBroadcast(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) =>
    c.json({ queued: await queueTestSend(c.get('services'), c.req.valid('param').id, c.req.valid('json').to) }, 202),
  );
}
