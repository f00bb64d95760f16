/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../../../core/errors.js';
import { previewImport } from '../../../core/lists/import-preview.js';
import { ImportPreviewPage } from '../../../pages/console/import-preview.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard, consoleSession } from '../auth/guard.js';
import { importPage } from './page.js';
import { readUpload } from './read-file.js';

/**
 * POST /admin/import/preview: the uploaded (or pasted) CSV, read and classified by the import's own dry
 * run; nothing is written. The guard has parsed the multipart body already; hono keeps it, file and all.
 */
export function registerImportPreview(app: OpenAPIHono<AppEnv>) {
  app.post('/admin/import/preview', consoleGuard, async (c) => {
    const s = c.get('services');
    const body = await c.req.parseBody({ all: true });
    const file = [body.csv].flat().find((v): v is File => typeof v === 'object' && v !== null && 'text' in v);
    const pasted = [body.csv_text].flat().find((v): v is string => typeof v === 'string') ?? '';
    let text: string;
    let fileName: string;
    if (file && file.size > 0) {
      text = await file.text();
      fileName = file.name.slice(0, 200) || 'upload.csv';
    } else if (pasted.trim()) {
      text = pasted;
      fileName = 'pasted text';
    } else return importPage(c, { error: 'Choose a CSV file, or paste one.', status: 422 });

    let csv: ReturnType<typeof readUpload>;
    try {
      csv = readUpload(text);
    } catch (err) {
      if (err instanceof AppError && err.code === 'validation_failed')
        return importPage(c, { error: err.message, status: 422 });
      throw err;
    }
    return c.html(
      <ImportPreviewPage
        bookTitle={s.config.BOOK_TITLE}
        csrf={consoleSession(c).csrf}
        fileName={fileName}
        csv={text}
        mapping={csv.mapping}
        preview={await previewImport(s, csv.rows)}
      />,
    );
  });
}
