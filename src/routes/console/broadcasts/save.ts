import type { Context } from 'hono';
import type { Broadcast } from '../../../core/broadcasts.js';
import { draftOf } from './compose-form.js';
import { composePage, sendTest } from './compose-page.js';

/**
 * After a draft is created or saved, what the button the author pressed asks for: stay (save), look at
 * the frames (preview), a test send, or the send confirmation (review). Each ends in a redirect, so a
 * reload never posts again.
 */
export async function afterSave(c: Context, b: Broadcast, data: Record<string, unknown>): Promise<Response> {
  const base = `/admin/broadcasts/${b.id}`;
  switch (data.intent) {
    case 'preview':
      return c.redirect(`${base}?done=previewed#preview`, 303);
    case 'review':
      return c.redirect(`${base}/send`, 303);
    case 'test': {
      const sent = await sendTest(c, b.id, data.test_to);
      if (typeof sent === 'number') return c.redirect(`${base}?done=test`, 303);
      return composePage(c, { id: b.id, draft: draftOf(b), errors: [sent], status: 422 });
    }
    default:
      return c.redirect(`${base}?done=saved`, 303);
  }
}
