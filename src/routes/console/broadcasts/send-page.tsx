/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { audienceOf, type Broadcast, getBroadcastRow } from '../../../core/broadcasts.js';
import type { FieldError } from '../../../core/errors.js';
import { listTopics } from '../../../core/topics.js';
import { SendPage } from '../../../pages/console/broadcast-send.js';
import type { AppContext, AppEnv } from '../../env.js';
import { consoleGuard, consoleSession } from '../auth/guard.js';
import { ID } from './ids.js';

/** GET /admin/broadcasts/:id/send: the confirmation that names the count, before anything goes out. */
export function registerSendPage(app: OpenAPIHono<AppEnv>) {
  app.get(`/admin/broadcasts/:id${ID}/send`, consoleGuard, async (c) => {
    const b = await getBroadcastRow(c.get('services').db, c.req.param('id'));
    if (b.status !== 'draft') return c.redirect(`/admin/broadcasts/${b.id}`, 303);
    return sendPage(c, b);
  });
}

export async function sendPage(c: Context, b: Broadcast, errors: FieldError[] = [], at?: string, status = 200) {
  const s = (c as AppContext).get('services');
  const [audience, topics] = await Promise.all([audienceOf(s.db, b.topic), listTopics(s.db)]);
  return c.html(
    <SendPage
      bookTitle={s.config.BOOK_TITLE}
      csrf={consoleSession(c).csrf}
      broadcast={b}
      topicName={topics.find((t) => t.slug === b.topic)?.name ?? b.topic}
      audience={audience}
      refused={s.broadcastsRefused}
      errors={errors}
      {...(at ? { at } : {})}
    />,
    status as 200,
  );
}
