import type { OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../../../core/errors.js';
import { subscribersCsv } from '../../../core/lists/export.js';
import { ExportQuery } from '../../admin/subscribers/schema.js';
import { csvDownload } from '../../csv-download.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard } from '../auth/guard.js';

/** GET /admin/import/export?status=&topic=: the list as CSV, the file `quire subscribers import` reads back. */
export function registerConsoleExport(app: OpenAPIHono<AppEnv>) {
  app.get('/admin/import/export', consoleGuard, async (c) => {
    const s = c.get('services');
    // The form sends "" for "any"; blank filters are no filters.
    const query = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ''));
    const filter = ExportQuery.safeParse(query);
    if (!filter.success) throw new AppError('validation_failed', 'Choose a status and a topic from the lists.');
    return csvDownload(c, subscribersCsv(s.db, filter.data), `subscribers-${s.now().toISOString().slice(0, 10)}.csv`);
  });
}
