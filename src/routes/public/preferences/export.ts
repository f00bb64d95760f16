import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { exportSubscriberData } from '../../../core/preferences.js';
import type { AppEnv } from '../../env.js';
import { jsonResponse, TokenParam } from '../../schemas.js';
import { subscriberOf } from './link.js';
import { PreferencesExport, tokenErrors } from './schema.js';

const route = createRoute({
  method: 'get',
  operationId: 'exportPreferences',
  security: [],
  path: '/v1/preferences/{token}/export',
  tags: ['Preferences'],
  summary: 'Everything held about the subscriber, as a JSON download.',
  request: { params: TokenParam },
  responses: {
    200: jsonResponse(PreferencesExport, 'JSON document: profile, subscriptions, consent history, deliveries'),
    ...tokenErrors,
  },
});

export function registerExportPreferences(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const id = subscriberOf(c, c.req.valid('param').token);
    const data = await exportSubscriberData(c.get('services'), id);
    c.header('Content-Disposition', 'attachment; filename="my-subscription-data.json"');
    c.header('Cache-Control', 'no-store');
    return c.json(data, 200);
  });
}
