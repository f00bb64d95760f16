import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { subscribersCsv } from '../../../core/lists/export.js';
import { errorFields } from '../../../log.js';
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
    const chunks = subscribersCsv(s.db, c.req.valid('query'));
    // The first page is read before the response starts, so a database fault is still a 503 envelope.
    const first = await chunks.next();
    const encoder = new TextEncoder();
    const requestId = c.get('requestId');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        if (first.done) controller.close();
        else controller.enqueue(encoder.encode(first.value));
      },
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(next.value));
        } catch (err) {
          s.log.error('subscriber export failed', { requestId, ...errorFields(err) });
          controller.error(err);
        }
      },
      async cancel() {
        await chunks.return(undefined);
      },
    });
    const day = s.now().toISOString().slice(0, 10);
    return c.body(body, 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="subscribers-${day}.csv"`,
      'Cache-Control': 'no-store',
    });
  });
}
