import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { subscribersCsv } from '../../core/lists/export.js';
import { importSubscribers } from '../../core/lists/import.js';
import { errorFields } from '../../log.js';
import type { AppEnv } from '../env.js';
import { errorResponse } from '../schemas.js';
import { SubscriberListQuery } from './subscribers.js';

const security = [{ bearer: [] }];
const unauthorized = { 401: errorResponse('Missing or invalid admin token') };

export const IMPORT_PATH = '/admin/v1/subscribers/import';
export const IMPORT_MAX_ROWS = 1000;
/** The one route allowed past the app's 64 kB body limit (src/app.tsx): 1,000 rows with room to spare. */
export const IMPORT_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

const optionalText = (max: number) => z.string().max(max).nullish();

// Types and sizes only: what a row means is checked per row in core/lists/import-row.ts, so one bad row is
// reported by its number instead of failing the whole request.
export const SubscriberImportRow = z
  .object({
    row: z.number().int().min(1).optional().openapi({ description: 'Your own row number, echoed in `invalid_rows` (the CLI sends the CSV line).' }),
    email: z.string().max(1000).openapi({ example: 'ada@example.com' }),
    name: optionalText(1000).openapi({ example: 'Ada' }),
    topics: z
      .union([z.array(z.string().max(100)).max(50), z.string().max(2000)])
      .nullish()
      .openapi({ description: 'Topic slugs, an array or `;`-separated; empty means the default-on topics.', example: 'release;updates' }),
    consent_at: optionalText(100).openapi({ description: 'When consent was given (ISO 8601). With consent_source, the row is imported as active.', example: '2026-03-14T18:30:00Z' }),
    consent_source: optionalText(1000).openapi({ description: 'How consent was given.', example: 'paper form at launch event' }),
    consent_text: optionalText(20_000).openapi({ description: 'The wording agreed to; matched against the consent text versions.' }),
    consent_version: z.union([z.number().int(), z.string().max(20)]).nullish(),
  })
  .openapi('SubscriberImportRow');

export const SubscriberImport = z
  .object({ rows: z.array(SubscriberImportRow).min(1).max(IMPORT_MAX_ROWS) })
  .strict()
  .openapi('SubscriberImport');

const ImportResultSchema = z
  .object({
    imported_active: z.number().int(),
    imported_pending: z.number().int(),
    skipped_existing: z.number().int(),
    skipped_suppressed: z.number().int(),
    invalid: z.number().int(),
    invalid_rows: z.array(z.object({ row: z.number().int(), field: z.string(), message: z.string() })),
  })
  .openapi('SubscriberImportResult');

const ExportQuery = SubscriberListQuery.pick({ status: true, topic: true });

/** The author's list in and out: CSV rows posted as JSON (the CLI reads the file), and a CSV download. */
export function registerAdminImportExportRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    createRoute({
      method: 'post',
      path: IMPORT_PATH,
      tags: ['Admin'],
      security,
      summary: 'Import up to 1,000 subscribers.',
      description:
        'Rows with consent evidence (`consent_at` and `consent_source`) become active with an `imported` ledger event; rows without get a confirmation mail and stay pending until confirmed. Suppressed, unsubscribed and erased addresses are skipped; existing subscribers are left as they are.',
      request: { body: { required: true, content: { 'application/json': { schema: SubscriberImport } } } },
      responses: {
        200: { description: 'Counts per outcome, and the invalid rows', content: { 'application/json': { schema: ImportResultSchema } } },
        413: errorResponse('Body over 2 MB'),
        422: errorResponse('Not a list of rows'),
        ...unauthorized,
      },
    }),
    async (c) => {
      const s = c.get('services');
      return c.json(await importSubscribers(s, c.req.valid('json').rows, { consentVersion: s.consentVersion }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/admin/v1/subscribers/export',
      tags: ['Admin'],
      security,
      summary: 'The subscriber list as CSV (email, name, status, topics, created_at, confirmed_at), streamed.',
      request: { query: ExportQuery },
      responses: { 200: { description: 'RFC 4180 CSV; values starting with = + - @ are prefixed with `\'`', content: { 'text/csv': { schema: z.string() } } }, ...unauthorized },
    }),
    async (c) => {
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
    },
  );
}
