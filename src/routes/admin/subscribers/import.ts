import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { importSubscribers } from '../../../core/lists/import.js';
import type { AppEnv } from '../../env.js';
import { errorResponse, jsonBody, jsonResponse } from '../../schemas.js';
import { adminSecurity, unauthorized } from '../schema.js';
import { ImportResultSchema, SubscriberImport } from './schema.js';

export const IMPORT_PATH = '/admin/v1/subscribers/import';
/** The one route allowed past the app's 64 kB body limit (src/app.tsx): 1,000 rows with room to spare. */
export const IMPORT_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

const route = createRoute({
  method: 'post',
  operationId: 'importSubscribers',
  path: IMPORT_PATH,
  tags: ['Admin'],
  security: adminSecurity,
  summary: 'Import up to 1,000 subscribers.',
  description:
    'Rows with consent evidence (`consent_at` and `consent_source`) become active with an `imported` ledger event; rows without get a confirmation mail and stay pending until confirmed. Suppressed, unsubscribed and erased addresses are skipped; existing subscribers are left as they are.',
  request: { body: jsonBody(SubscriberImport) },
  responses: {
    200: jsonResponse(ImportResultSchema, 'Counts per outcome, and the invalid rows'),
    413: errorResponse('Body over 2 MB'),
    422: errorResponse('Not a list of rows'),
    ...unauthorized,
  },
});

/** The author's list in: CSV rows posted as JSON (the CLI reads the file). */
export function registerImportSubscribers(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const s = c.get('services');
    return c.json(await importSubscribers(s, c.req.valid('json').rows, { consentVersion: s.consentVersion }), 200);
  });
}
