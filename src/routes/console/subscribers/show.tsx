/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../../../core/errors.js';
import { subscriberRecord } from '../../../core/subscriber-record.js';
import { SubscriberPage } from '../../../pages/console/subscriber.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard, consoleSession } from '../auth/guard.js';
import { IdParam, noticeOf } from './schema.js';

/** A subscriber's id from the path; anything else is "not found", never a database error. */
export function subscriberId(raw: string): string {
  const parsed = IdParam.safeParse({ id: raw });
  if (!parsed.success) throw new AppError('not_found', 'Subscriber not found.');
  return parsed.data.id;
}

/** GET /admin/subscribers/:id: profile, topics, consent timeline, messages, and the actions. */
export function registerSubscriberPage(app: OpenAPIHono<AppEnv>) {
  app.get('/admin/subscribers/:id', consoleGuard, async (c) => {
    const s = c.get('services');
    const record = await subscriberRecord(s.db, subscriberId(c.req.param('id')));
    return c.html(
      <SubscriberPage
        bookTitle={s.config.BOOK_TITLE}
        csrf={consoleSession(c).csrf}
        record={record}
        notice={noticeOf(c.req.query('done'))}
      />,
    );
  });
}
