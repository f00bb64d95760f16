import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { queueTestSend } from '../../../core/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { errorResponse, jsonBody, jsonResponse } from '../../schemas.js';
import { adminSecurity, IdParam } from '../schema.js';
import { broadcastErrors, TestBody, TestSendResult } from './schema.js';

const route = createRoute({
  method: 'post',
  operationId: 'sendTestBroadcast',
  summary: 'Send test copies to up to 10 addresses; links in them lead to a test-copy page.',
  path: '/admin/v1/broadcasts/{id}/test',
  tags: ['Broadcasts'],
  security: adminSecurity,
  request: { params: IdParam, body: jsonBody(TestBody) },
  responses: {
    202: jsonResponse(TestSendResult, 'Test sends queued'),
    ...broadcastErrors,
    422: errorResponse('An address that is not valid, or an id that is not a UUID'),
  },
});

export function registerTestBroadcast(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) =>
    c.json({ queued: await queueTestSend(c.get('services'), c.req.valid('param').id, c.req.valid('json').to) }, 202),
  );
}
