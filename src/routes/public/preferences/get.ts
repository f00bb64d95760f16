import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { getPreferences } from '../../../core/preferences.js';
import type { AppEnv } from '../../env.js';
import { jsonResponse, TokenParam } from '../../schemas.js';
import { subscriberOf } from './link.js';
import { PreferencesSchema, tokenErrors } from './schema.js';

const route = createRoute({
  method: 'get',
  operationId: 'getPreferences',
  summary: 'Read the subscriber’s preferences.',
  security: [],
  path: '/v1/preferences/{token}',
  tags: ['Preferences'],
  request: { params: TokenParam },
  responses: { 200: jsonResponse(PreferencesSchema, 'Current preferences'), ...tokenErrors },
});

export function registerGetPreferences(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const id = subscriberOf(c, c.req.valid('param').token);
    return c.json(await getPreferences(c.get('services'), id), 200);
  });
}
