import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { updatePreferences } from '../../../core/preferences.js';
import type { AppEnv } from '../../env.js';
import { requestMeta } from '../../http.js';
import { errorResponse, jsonBody, jsonResponse, TokenParam } from '../../schemas.js';
import { subscriberOf } from './link.js';
import { PreferencesSchema, PreferencesUpdateSchema, tokenErrors } from './schema.js';

const route = createRoute({
  method: 'put',
  operationId: 'updatePreferences',
  summary: 'Change topics and name, or unsubscribe from everything.',
  security: [],
  path: '/v1/preferences/{token}',
  tags: ['Preferences'],
  request: { params: TokenParam, body: jsonBody(PreferencesUpdateSchema) },
  responses: {
    200: jsonResponse(PreferencesSchema, 'Saved preferences'),
    422: errorResponse('Invalid update'),
    ...tokenErrors,
  },
});

export function registerUpdatePreferences(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const id = subscriberOf(c, c.req.valid('param').token);
    const body = c.req.valid('json');
    const prefs = await updatePreferences(
      c.get('services'),
      id,
      { name: body.name === '' ? null : body.name, topics: body.topics, unsubscribeAll: body.unsubscribe_all },
      requestMeta(c),
    );
    return c.json(prefs, 200);
  });
}
