/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { subscriberStats } from '../../../core/subscribers.js';
import { ConsoleLayout } from '../../../pages/console/layout.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard, consoleSession } from '../auth/guard.js';

/** GET /admin: the overview. */
export function registerOverviewPage(app: OpenAPIHono<AppEnv>) {
  app.get('/admin/', (c) => c.redirect('/admin', 301));
  app.get('/admin', consoleGuard, async (c) => {
    const s = c.get('services');
    const stats = await subscriberStats(s.db);
    return c.html(
      <ConsoleLayout title="Overview" section="overview" bookTitle={s.config.BOOK_TITLE} csrf={consoleSession(c).csrf}>
        <p>{stats.byStatus.active} people are waiting for the book.</p>
      </ConsoleLayout>,
    );
  });
}
