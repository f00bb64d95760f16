/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { getSubscriber } from '../../../core/subscribers.js';
import { EraseSubscriberPage } from '../../../pages/console/subscriber.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard, consoleSession } from '../auth/guard.js';
import { subscriberId } from './show.js';

/** GET /admin/subscribers/:id/erase: the confirmation step; nothing changes until its form is posted. */
export function registerErasePage(app: OpenAPIHono<AppEnv>) {
  app.get('/admin/subscribers/:id/erase', consoleGuard, async (c) => {
    const s = c.get('services');
    const id = subscriberId(c.req.param('id'));
    const sub = await getSubscriber(s.db, id);
    if (!sub.email) return c.redirect(`/admin/subscribers/${id}?done=already_erased`, 303);
    return c.html(
      <EraseSubscriberPage bookTitle={s.config.BOOK_TITLE} csrf={consoleSession(c).csrf} id={id} email={sub.email} />,
    );
  });
}
