/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { listTopics } from '../../../core/topics.js';
import { ImportPage } from '../../../pages/console/import.js';
import type { AppContext, AppEnv } from '../../env.js';
import { consoleGuard, consoleSession } from '../auth/guard.js';

/** GET /admin/import: upload a CSV to check, or download the list. */
export function registerImportPage(app: OpenAPIHono<AppEnv>) {
  app.get('/admin/import', consoleGuard, (c) => importPage(c, { notice: resultNotice(c.req.query('done')) }));
}

export async function importPage(
  c: Context,
  opts: { notice?: { text: string; bad?: boolean } | undefined; error?: string; status?: 200 | 413 | 422 } = {},
) {
  const s = (c as AppContext).get('services');
  const topics = await listTopics(s.db);
  return c.html(
    <ImportPage
      bookTitle={s.config.BOOK_TITLE}
      csrf={consoleSession(c).csrf}
      topics={topics.map((t) => ({ slug: t.slug, name: t.name }))}
      notice={opts.notice}
      error={opts.error}
    />,
    opts.status ?? 200,
  );
}

/** `?done=a.p.e.s.i`: the counts of the import just committed (commit.ts). */
function resultNotice(done: string | undefined) {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(done ?? '');
  if (!m) return undefined;
  const [active, pending, existing, left, invalid] = m.slice(1).map(Number) as [number, number, number, number, number];
  return {
    text:
      `Imported: ${active} active, ${pending} pending (confirmation mail on its way). ` +
      `Skipped: ${existing} already on the list, ${left} who had left, ${invalid} invalid.`,
  };
}
