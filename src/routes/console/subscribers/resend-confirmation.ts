import type { OpenAPIHono } from '@hono/zod-openapi';
import { resendConfirmation } from '../../../core/confirm-resend.js';
import { AppError } from '../../../core/errors.js';
import { getSubscriber } from '../../../core/subscribers.js';
import type { AppEnv } from '../../env.js';
import { requestMeta } from '../../http.js';
import { consoleGuard } from '../auth/guard.js';
import { subscriberId } from './show.js';

/**
 * POST /admin/subscribers/:id/resend-confirmation: what the reader's own "send me a new link" form does,
 * with its cooldown and per-address limit, so the console cannot flood anyone's inbox either. The new
 * link carries the consent of the original request; nothing new was agreed to, so no ledger event.
 */
export function registerResendConfirmationAction(app: OpenAPIHono<AppEnv>) {
  app.post('/admin/subscribers/:id/resend-confirmation', consoleGuard, async (c) => {
    const s = c.get('services');
    const id = subscriberId(c.req.param('id'));
    const { email } = await getSubscriber(s.db, id);
    if (!email) throw new AppError('invalid_state', 'This subscriber was erased.');
    const outcome = await resendConfirmation(s, email, requestMeta(c));
    return c.redirect(`/admin/subscribers/${id}?done=${outcome}`, 303);
  });
}
