/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { overviewFigures } from '../../../core/stats-cache.js';
import { OverviewPage } from '../../../pages/console/overview.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard, consoleSession } from '../auth/guard.js';
import { deliverabilityChecklist } from './deliverability.js';

/** GET /admin: the overview (figures from core/stats.ts, the checklist from configuration). */
export function registerOverviewPage(app: OpenAPIHono<AppEnv>) {
  app.get('/admin/', (c) => c.redirect('/admin', 301));
  app.get('/admin', consoleGuard, async (c) => {
    const s = c.get('services');
    return c.html(
      <OverviewPage
        bookTitle={s.config.BOOK_TITLE}
        csrf={consoleSession(c).csrf}
        figures={await overviewFigures(s)}
        checklist={deliverabilityChecklist(s.config)}
      />,
    );
  });
}
