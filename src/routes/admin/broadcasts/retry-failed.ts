import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { retryFailed } from '../../../core/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { errorResponse, jsonResponse } from '../../schemas.js';
import { adminSecurity, IdParam } from '../schema.js';
import { broadcastErrors, RetryFailedResult } from './schema.js';

const route = createRoute({
  method: 'post',
  operationId: 'retryFailedBroadcast',
  summary: 'Queue the failed deliveries of a broadcast again.',
  path: '/admin/v1/broadcasts/{id}/retry-failed',
  tags: ['Broadcasts'],
  security: adminSecurity,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(RetryFailedResult, 'After retry-failed'),
    409: errorResponse('Not possible in its state'),
    ...broadcastErrors,
  },
});

export function registerRetryFailedBroadcast(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(await retryFailed(c.get('services'), c.req.valid('param').id), 200));
}
