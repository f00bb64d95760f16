import type { OpenAPIHono } from '@hono/zod-openapi';
import { audienceOf, getBroadcastRow, sendBroadcast } from '../../../core/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { readBody } from '../../http.js';
import { consoleGuard } from '../auth/guard.js';
import { ID } from './ids.js';
import { sendPage } from './send-page.js';

/** Already going out: a second send (another tab, a double click) changes nothing. */
const ON_ITS_WAY = new Set(['freezing', 'sending', 'sent']);
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

/**
 * POST /admin/broadcasts/:id/send: send now or at a time, only from the confirmation page — the form
 * carries the count it named. A post without it, or after the audience grew past it, goes back to the
 * confirmation with the count as it is now.
 */
export function registerSend(app: OpenAPIHono<AppEnv>) {
  app.post(`/admin/broadcasts/:id${ID}/send`, consoleGuard, async (c) => {
    const s = c.get('services');
    const id = c.req.param('id');
    const { data } = await readBody(c, ['form']);
    const confirmed = Number(data.confirm);
    const b = await getBroadcastRow(s.db, id);
    if (ON_ITS_WAY.has(b.status)) return c.redirect(`/admin/broadcasts/${id}?done=unchanged`, 303);
    if (!Number.isInteger(confirmed) || confirmed < 0) return c.redirect(`/admin/broadcasts/${id}/send`, 303);

    if (data.when === 'later') {
      const at = typeof data.at === 'string' ? data.at : '';
      // datetime-local has no zone; the page says the time is UTC.
      const when = LOCAL_TIME.test(at) ? new Date(`${at}Z`) : new Date(Number.NaN);
      if (Number.isNaN(when.getTime()))
        return sendPage(c, b, [{ path: 'at', message: 'Give a date and a time' }], at, 422);
      if (when.getTime() <= s.now().getTime())
        return sendPage(c, b, [{ path: 'at', message: 'That time has passed; choose a later one' }], at, 422);
      await sendBroadcast(s, id, when);
      return c.redirect(`/admin/broadcasts/${id}?done=scheduled`, 303);
    }

    const { audience } = await audienceOf(s.db, b.topic);
    if (audience > confirmed) return sendPage(c, b, [], undefined, 409);
    await sendBroadcast(s, id);
    return c.redirect(`/admin/broadcasts/${id}?done=sent`, 303);
  });
}
