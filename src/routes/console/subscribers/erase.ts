import type { OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../../../core/errors.js';
import { eraseSubscriber } from '../../../core/preferences.js';
import { forgetOverview } from '../../../core/stats-cache.js';
import type { AppEnv } from '../../env.js';
import { readBody, requestMeta } from '../../http.js';
import { consoleGuard } from '../auth/guard.js';
import { subscriberId } from './show.js';

/** POST /admin/subscribers/:id/erase: the erasure the API and the reader's own page make, once confirmed. */
export function registerEraseAction(app: OpenAPIHono<AppEnv>) {
  app.post('/admin/subscribers/:id/erase', consoleGuard, async (c) => {
    const s = c.get('services');
    const id = subscriberId(c.req.param('id'));
    const { data } = await readBody(c, ['form']);
    if (data.confirm !== 'yes') {
      throw new AppError(
        'confirmation_required',
        'Erasing needs the confirmation step: use the Erase button on its page.',
      );
    }
    const outcome = await eraseSubscriber(s, id, requestMeta(c), 'console');
    forgetOverview(s.config);
    return c.redirect(`/admin/subscribers/${id}?done=${outcome}`, 303);
  });
}
