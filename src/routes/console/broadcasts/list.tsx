/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { listBroadcastSummaries } from '../../../core/broadcast-report.js';
import { BroadcastsPage } from '../../../pages/console/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard, consoleSession } from '../auth/guard.js';

/** GET /admin/broadcasts: every broadcast with its status and counts. */
export function registerBroadcastList(app: OpenAPIHono<AppEnv>) {
  app.get('/admin/broadcasts', consoleGuard, async (c) => {
    const s = c.get('services');
    return c.html(
      <BroadcastsPage
        bookTitle={s.config.BOOK_TITLE}
        csrf={consoleSession(c).csrf}
        broadcasts={await listBroadcastSummaries(s.db)}
      />,
    );
  });
}
