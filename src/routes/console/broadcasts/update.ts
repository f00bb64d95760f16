import type { OpenAPIHono } from '@hono/zod-openapi';
import { updateDraft } from '../../../core/broadcast-drafts.js';
import { AppError } from '../../../core/errors.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard } from '../auth/guard.js';
import { readComposeForm } from './compose-form.js';
import { composePage } from './compose-page.js';
import { ID } from './ids.js';
import { afterSave } from './save.js';

/** POST /admin/broadcasts/:id: save the draft, then do what the pressed button asks (save.ts). */
export function registerUpdateBroadcast(app: OpenAPIHono<AppEnv>) {
  app.post(`/admin/broadcasts/:id${ID}`, consoleGuard, async (c) => {
    const id = c.req.param('id');
    const read = await readComposeForm(c);
    if (!read.ok) return composePage(c, { id, draft: read.draft, errors: read.errors, status: 422 });
    try {
      return afterSave(c, await updateDraft(c.get('services'), id, read.input), read.data);
    } catch (err) {
      // Sent or scheduled from another tab meanwhile: show where it is rather than an error page.
      if (err instanceof AppError && err.code === 'invalid_state')
        return c.redirect(`/admin/broadcasts/${id}?done=stale`, 303);
      throw err;
    }
  });
}
