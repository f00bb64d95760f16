import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { subscribersCsv } from '../../../core/lists/export.js';
import { csvDownload } from '../../csv-download.js';
import type { AppEnv } from '../../env.js';
import { adminSecurity, unauthorized } from '../schema.js';
import { ExportQuery } from './schema.js';

const route = createRoute({
  method: 'get',
  operationId: 'exportSubscribers',
  path: '/admin/v1/subscribers/export',
  tags: ['Admin'],
  security: adminSecurity,
  summary: 'The subscriber list as CSV (email, name, status, topics, created_at, confirmed_at), streamed.',
  request: { query: ExportQuery },
  responses: {
    200: {
      description: "RFC 4180 CSV; values starting with = + - @ are prefixed with `'`",
      content: { 'text/csv': { schema: z.string() } },
    },
    ...unauthorized,
  },
});

/** The author's list out: a CSV download, streamed a page at a time. */
export function registerExportSubscribers(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const s = c.get('services');
    const day = s.now().toISOString().slice(0, 10);
    return csvDownload(c, subscribersCsv(s.db, c.req.valid('query')), `subscribers-${day}.csv`);
  });
}
