import type { OpenAPIHono } from '@hono/zod-openapi';
import { createBroadcast } from '../../../core/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard } from '../auth/guard.js';
import { readComposeForm } from './compose-form.js';
import { composePage } from './compose-page.js';
import { afterSave } from './save.js';

/** POST /admin/broadcasts: the first save of a new draft; a form with problems is shown again with them. */
export function registerCreateBroadcast(app: OpenAPIHono<AppEnv>) {
  app.post('/admin/broadcasts', consoleGuard, async (c) => {
    const read = await readComposeForm(c);
    if (!read.ok) return composePage(c, { draft: read.draft, errors: read.errors, status: 422 });
    const b = await createBroadcast(c.get('services'), read.input);
    return afterSave(c, b, read.data);
  });
}
