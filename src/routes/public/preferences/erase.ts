import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { eraseSubscriber } from '../../../core/preferences.js';
import type { AppEnv } from '../../env.js';
import { requestMeta } from '../../http.js';
import { EraseResult, errorResponse, jsonBody, jsonResponse, TokenParam } from '../../schemas.js';
import { subscriberOf } from './link.js';
import { EraseRequestSchema, tokenErrors } from './schema.js';

const route = createRoute({
  method: 'post',
  operationId: 'erasePreferences',
  security: [],
  path: '/v1/preferences/{token}/erase',
  tags: ['Preferences'],
  summary: 'Erase the subscriber’s personal data. Body `{"confirm": true}`.',
  request: { params: TokenParam, body: jsonBody(EraseRequestSchema) },
  responses: { 200: jsonResponse(EraseResult, 'Erased'), 422: errorResponse('confirm missing'), ...tokenErrors },
});

export function registerErasePreferences(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const id = subscriberOf(c, c.req.valid('param').token);
    const status = await eraseSubscriber(c.get('services'), id, requestMeta(c));
    return c.json({ status }, 200);
  });
}
