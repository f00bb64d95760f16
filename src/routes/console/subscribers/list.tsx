/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { listSubscribers } from '../../../core/subscribers.js';
import { listTopics } from '../../../core/topics.js';
import { listHref, SubscribersPage } from '../../../pages/console/subscribers.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard, consoleSession } from '../auth/guard.js';
import { ListQuery } from './schema.js';

const PAGE_SIZE = 50;

/** GET /admin/subscribers: search and filters over the keyset-paged list core/subscribers.ts reads. */
export function registerSubscriberList(app: OpenAPIHono<AppEnv>) {
  app.get('/admin/subscribers', consoleGuard, async (c) => {
    const s = c.get('services');
    const { cursor, ...filters } = ListQuery.parse(c.req.query());
    const [page, topics] = await Promise.all([
      listSubscribers(s.db, { ...filters, cursor, limit: PAGE_SIZE }),
      listTopics(s.db),
    ]);
    return c.html(
      <SubscribersPage
        bookTitle={s.config.BOOK_TITLE}
        csrf={consoleSession(c).csrf}
        filters={filters}
        topics={topics}
        rows={page.data}
        nextHref={page.nextCursor ? listHref(filters, page.nextCursor) : null}
        paged={cursor !== undefined}
      />,
    );
  });
}
