/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { broadcastProgress, broadcastReport } from '../../../core/broadcast-report.js';
import { getBroadcastRow } from '../../../core/broadcasts.js';
import { listTopics } from '../../../core/topics.js';
import { StatusPage } from '../../../pages/console/broadcast-status.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard, consoleSession } from '../auth/guard.js';
import { draftOf } from './compose-form.js';
import { composePage, noticeOf } from './compose-page.js';
import { ID } from './ids.js';

/** GET /admin/broadcasts/:id: a draft opens in compose; anything later shows its progress and report. */
export function registerBroadcastPage(app: OpenAPIHono<AppEnv>) {
  app.get(`/admin/broadcasts/:id${ID}`, consoleGuard, async (c) => {
    const s = c.get('services');
    const id = c.req.param('id');
    const b = await getBroadcastRow(s.db, id);
    if (b.status === 'draft') return composePage(c, { id, draft: draftOf(b), notice: noticeOf(c) });
    const [progress, report, topics] = await Promise.all([
      broadcastProgress(s.db, id, s.now()),
      broadcastReport(s.db, id),
      listTopics(s.db),
    ]);
    return c.html(
      <StatusPage
        bookTitle={s.config.BOOK_TITLE}
        csrf={consoleSession(c).csrf}
        progress={progress}
        report={report}
        topicName={topics.find((t) => t.slug === b.topic)?.name ?? b.topic}
        notice={noticeOf(c)}
      />,
    );
  });
}
