import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { overviewFigures } from '../../../core/stats-cache.js';
import type { AppEnv } from '../../env.js';
import { jsonResponse } from '../../schemas.js';
import { adminSecurity, unauthorized } from '../schema.js';
import { OverviewSchema } from './schema.js';

const route = createRoute({
  method: 'get',
  operationId: 'getOverview',
  summary: "The console overview's figures: the list by status and topic, growth, confirmations, broadcasts, ledger.",
  description:
    'The same figures as the console at /admin. On a list where counting takes longer than a quarter second they are kept for a minute (`kept`, `computedAt`).',
  path: '/admin/v1/overview',
  tags: ['Admin'],
  security: adminSecurity,
  responses: { 200: jsonResponse(OverviewSchema, 'The overview'), ...unauthorized },
});

/** GET /admin/v1/overview: what `quire stats` prints. */
export function registerOverview(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => c.json(await overviewFigures(c.get('services')), 200));
}
