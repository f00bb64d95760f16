import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { eraseSubscriber } from '../../../core/preferences.js';
import type { AppEnv } from '../../env.js';
import { requestMeta } from '../../http.js';
import { EraseResult, errorResponse, jsonResponse } from '../../schemas.js';
import { adminSecurity, IdParam, invalidId, unauthorized } from '../schema.js';

const route = createRoute({
  method: 'delete',
  operationId: 'eraseSubscriber',
  path: '/admin/v1/subscribers/{id}',
  tags: ['Admin'],
  security: adminSecurity,
  summary: 'Erase a subscriber (the same erasure the subscriber can ask for).',
  request: { params: IdParam },
  responses: {
    200: jsonResponse(EraseResult, 'Erased'),
    404: errorResponse('Not found'),
    ...unauthorized,
    ...invalidId,
  },
});

export function registerEraseSubscriber(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const status = await eraseSubscriber(c.get('services'), c.req.valid('param').id, requestMeta(c), 'admin');
    return c.json({ status }, 200);
  });
}
