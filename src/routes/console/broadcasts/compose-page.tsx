/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { audienceOf, broadcastTemplate, queueTestSend } from '../../../core/broadcasts.js';
import { AppError, type FieldError } from '../../../core/errors.js';
import { listTopics } from '../../../core/topics.js';
import { ComposePage } from '../../../pages/console/compose.js';
import { fieldsOf } from '../../../pages/console/compose-fields.js';
import { openingLineHint } from '../../../pages/console/compose-values.js';
import type { AppContext } from '../../env.js';
import { consoleSession, sessionCookieOptions } from '../auth/guard.js';
import type { ComposeDraft } from './compose-form.js';

/** The compose page for a new or saved draft, with the figures it shows beside the form. */
export async function composePage(
  c: Context,
  opts: { id?: string | undefined; draft: ComposeDraft; errors?: FieldError[]; status?: 200 | 422; notice?: Notice },
): Promise<Response> {
  const s = (c as AppContext).get('services');
  const def = broadcastTemplate(opts.draft.template);
  const fields = fieldsOf(def.schema);
  const topics = await listTopics(s.db);
  const topic = topics.some((t) => t.slug === opts.draft.topic) ? opts.draft.topic : undefined;
  return c.html(
    <ComposePage
      bookTitle={s.config.BOOK_TITLE}
      csrf={consoleSession(c).csrf}
      id={opts.id}
      template={{ name: def.name, description: def.description }}
      topics={topics.map((t) => ({ slug: t.slug, name: t.name }))}
      fields={fields}
      draft={opts.draft}
      values={opts.draft.values}
      errors={opts.errors ?? []}
      openingLine={openingLineHint(fields, opts.draft.props)}
      testTo={getCookie(c, TEST_TO_COOKIE) ?? ''}
      audience={opts.id && topic ? await audienceOf(s.db, topic) : undefined}
      notice={opts.notice}
    />,
    opts.status ?? 200,
  );
}

export type Notice = { text: string; bad?: boolean } | undefined;

/** The author's own test addresses, kept for the next test on this browser (only ever sent to /admin). */
const TEST_TO_COOKIE = 'quire_console_test_to';
const YEAR_SECONDS = 365 * 24 * 3600;

/**
 * Queue a test send of a saved draft to the addresses typed in `test_to`. Bad addresses come back as a
 * field error for the form; good ones are remembered for next time.
 */
export async function sendTest(c: Context, id: string, raw: unknown): Promise<FieldError | number> {
  const s = (c as AppContext).get('services');
  const to = (typeof raw === 'string' ? raw : '')
    .split(/[\s,;]+/)
    .map((a) => a.trim())
    .filter(Boolean);
  if (to.length === 0) return { path: 'test_to', message: 'Give at least one address to send the test to' };
  if (to.length > 10) return { path: 'test_to', message: 'At most 10 addresses' };
  try {
    await queueTestSend(s, id, to);
  } catch (err) {
    if (err instanceof AppError && err.code === 'invalid_email')
      return { path: 'test_to', message: err.extra.fields?.map((f) => f.message).join('; ') ?? err.message };
    throw err;
  }
  setCookie(c, TEST_TO_COOKIE, to.join(', '), sessionCookieOptions(c, YEAR_SECONDS));
  return to.length;
}

const NOTICES: Record<string, Notice> = {
  saved: { text: 'Draft saved.' },
  previewed: { text: 'Draft saved. The preview below shows it.' },
  test: { text: 'Test queued. It should arrive within a minute, subject marked [Test].' },
  sent: { text: 'Sending has started.' },
  scheduled: { text: 'Scheduled.' },
  pause: { text: 'Paused. Nothing more goes out until you resume.' },
  resume: { text: 'Resumed.' },
  cancel: { text: 'Cancelled. Nobody still waiting gets it.' },
  'retry-failed': { text: 'The failed messages are back in the queue.' },
  stale: { text: 'That did not apply: the broadcast had moved on. This is where it is now.', bad: true },
  unchanged: { text: 'It was already sent or sending; nothing changed.', bad: true },
};

export function noticeOf(c: Context): Notice {
  const done = c.req.query('done') ?? '';
  return Object.hasOwn(NOTICES, done) ? NOTICES[done] : undefined;
}
