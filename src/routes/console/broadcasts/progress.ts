import type { OpenAPIHono } from '@hono/zod-openapi';
import { broadcastProgress } from '../../../core/broadcast-report.js';
import { duration } from '../../../pages/console/broadcast-status.js';
import { formatNumber as fmt, formatDateTime } from '../../../pages/console/format.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard } from '../auth/guard.js';
import { ID } from './ids.js';

/**
 * GET /admin/broadcasts/:id/progress: the live figures for the progress script, formatted here as the
 * page formats them, so the script only writes text.
 */
export function registerBroadcastProgress(app: OpenAPIHono<AppEnv>) {
  app.get(`/admin/broadcasts/:id${ID}/progress`, consoleGuard, async (c) => {
    const s = c.get('services');
    const p = await broadcastProgress(s.db, c.req.param('id'), s.now());
    const k = p.counts;
    return c.json({
      status: p.broadcast.status,
      total: p.total,
      done: k.sent + k.failed + k.bounced + k.skipped,
      counts: k,
      text: {
        sent: fmt(k.sent),
        total: fmt(p.total),
        rate: `${p.perSecond.toFixed(1)}/s`,
        eta: duration(p.etaSeconds),
        remaining: fmt(p.remaining),
        failed: fmt(k.failed),
        bounced: fmt(k.bounced),
        retrying: fmt(k.retrying),
        next: k.retrying && k.nextAttemptAt ? `Next retry at ${formatDateTime(new Date(k.nextAttemptAt))}.` : '',
      },
    });
  });
}
