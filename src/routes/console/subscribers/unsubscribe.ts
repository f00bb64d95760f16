import type { OpenAPIHono } from '@hono/zod-openapi';
import { forgetOverview } from '../../../core/stats-cache.js';
import { unsubscribe } from '../../../core/unsubscribe.js';
import type { AppEnv } from '../../env.js';
import { requestMeta } from '../../http.js';
import { consoleGuard } from '../auth/guard.js';
import { subscriberId } from './show.js';

/** POST /admin/subscribers/:id/unsubscribe: the same unsubscribe a reader's link makes, recorded as the console's. */
export function registerUnsubscribeAction(app: OpenAPIHono<AppEnv>) {
  app.post('/admin/subscribers/:id/unsubscribe', consoleGuard, async (c) => {
    const s = c.get('services');
    const id = subscriberId(c.req.param('id'));
    const outcome = await unsubscribe(s, id, requestMeta(c), 'console');
    forgetOverview(s.config);
    return c.redirect(`/admin/subscribers/${id}?done=${outcome}`, 303);
  });
}
