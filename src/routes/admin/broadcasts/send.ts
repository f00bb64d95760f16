import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { sendBroadcast } from '../../../core/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { errorResponse, jsonResponse } from '../../schemas.js';
import { adminSecurity, IdParam } from '../schema.js';
import { BroadcastSchema, broadcastErrors, SendBody } from './schema.js';

const route = createRoute({
  method: 'post',
  operationId: 'sendBroadcast',
  path: '/admin/v1/broadcasts/{id}/send',
  tags: ['Broadcasts'],
  security: adminSecurity,
  summary: 'Send now (freezes the audience), or schedule with {"at": ISO time}. A repeat call changes nothing.',
  request: { params: IdParam, body: { required: false, content: { 'application/json': { schema: SendBody } } } },
  responses: {
    202: jsonResponse(BroadcastSchema, 'Sending or scheduled'),
    409: errorResponse('Not sendable in its state'),
    ...broadcastErrors,
    422: errorResponse('A time that is not ISO 8601, or an id that is not a UUID'),
  },
});

export function registerSendBroadcast(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const body = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
    const at = body.at ? new Date(body.at) : undefined;
    return c.json(await sendBroadcast(c.get('services'), c.req.valid('param').id, at), 202);
  });
}
