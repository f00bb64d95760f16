import type { OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../../../core/errors.js';
import { importSubscribers } from '../../../core/lists/import.js';
import type { AppEnv } from '../../env.js';
import { readBody } from '../../http.js';
import { consoleGuard } from '../auth/guard.js';
import { importPage } from './page.js';
import { readUpload } from './read-file.js';

/**
 * POST /admin/import/commit: import the file the author just checked (it comes back in the form). The
 * import decides each row again under its locks; the counts go back to the import page.
 */
export function registerImportCommit(app: OpenAPIHono<AppEnv>) {
  app.post('/admin/import/commit', consoleGuard, async (c) => {
    const s = c.get('services');
    const { data } = await readBody(c, ['form']);
    let rows: ReturnType<typeof readUpload>['rows'];
    try {
      rows = readUpload(typeof data.csv === 'string' ? data.csv : '').rows;
    } catch (err) {
      if (err instanceof AppError && err.code === 'validation_failed')
        return importPage(c, { error: err.message, status: 422 });
      throw err;
    }
    const r = await importSubscribers(s, rows, { consentVersion: s.consentVersion });
    const counts = [r.imported_active, r.imported_pending, r.skipped_existing, r.skipped_suppressed, r.invalid];
    return c.redirect(`/admin/import?done=${counts.join('.')}`, 303);
  });
}
