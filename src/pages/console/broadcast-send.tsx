/** @jsxImportSource hono/jsx */
import type { Broadcast } from '../../core/broadcasts.js';
import type { FieldError } from '../../core/errors.js';
import { type Audience, audienceSentence } from './broadcast-audience.js';
import { formatNumber as fmt } from './format.js';
import { ConsoleForm, ConsoleLayout } from './layout.js';

/**
 * The step before anything goes out: what, to whom, how many — and the two ways to send. The form
 * carries the count the author saw, so a send never happens from a page that did not name it.
 */

export interface SendPageProps {
  bookTitle: string;
  csrf: string;
  broadcast: Broadcast;
  topicName: string;
  audience: Audience;
  /** Why sending is impossible with this configuration, if it is. */
  refused?: string | undefined;
  errors?: FieldError[];
  at?: string;
}

export function SendPage({
  bookTitle,
  csrf,
  broadcast: b,
  topicName,
  audience,
  refused,
  errors = [],
  at,
}: SendPageProps) {
  const n = audience.audience;
  const atError = errors.find((e) => e.path === 'at')?.message;
  return (
    <ConsoleLayout title="Review and send" section="broadcasts" bookTitle={bookTitle} csrf={csrf}>
      <div class="panel">
        <dl class="profile">
          <dt>Subject</dt>
          <dd>{b.subject}</dd>
          <dt>Preheader</dt>
          <dd>{b.preheader || <span class="muted">none</span>}</dd>
          <dt>Template</dt>
          <dd>{b.template}</dd>
          <dt>Topic</dt>
          <dd>
            {topicName} ({b.topic})
          </dd>
        </dl>
        <p class="lede" id="send-count">
          {audienceSentence(audience)}
        </p>
        <p class="muted small">
          Each person gets one copy, with their own unsubscribe link. The list is frozen when sending starts; anyone who
          unsubscribes before their copy goes is skipped.
        </p>
        {refused ? <p class="notice-bad">{refused}</p> : null}
        {n === 0 ? (
          <p class="notice-bad">
            Nobody would get it now: no confirmed subscriber is in this topic. It can still be scheduled.
          </p>
        ) : null}
      </div>

      {refused ? null : (
        <div class="panels">
          {n > 0 ? (
            <section class="panel" aria-labelledby="now-heading">
              <h2 id="now-heading">Send now</h2>
              <ConsoleForm action={`/admin/broadcasts/${b.id}/send`} csrf={csrf}>
                <input type="hidden" name="confirm" value={String(n)} />
                <input type="hidden" name="when" value="now" />
                <p>Sending starts as soon as you press the button, and can be paused or cancelled while it runs.</p>
                <button type="submit" class="danger">
                  Send now to {fmt(n)} {n === 1 ? 'person' : 'people'}
                </button>
              </ConsoleForm>
            </section>
          ) : null}
          <section class="panel" aria-labelledby="later-heading">
            <h2 id="later-heading">Or schedule it</h2>
            <ConsoleForm action={`/admin/broadcasts/${b.id}/send`} csrf={csrf}>
              <input type="hidden" name="confirm" value={String(n)} />
              <input type="hidden" name="when" value="later" />
              <label for="f-at">Send at (UTC)</label>
              <input
                type="datetime-local"
                id="f-at"
                name="at"
                required
                value={at}
                aria-invalid={atError ? 'true' : undefined}
                aria-describedby={atError ? 'f-at-error' : undefined}
              />
              {atError ? (
                <p id="f-at-error" class="error small">
                  {atError}
                </p>
              ) : null}
              <p class="muted small">
                The audience is counted again when it starts. A time missed while the server was down pauses the
                broadcast instead of sending it late.
              </p>
              <button type="submit" class="secondary">
                Schedule
              </button>
            </ConsoleForm>
          </section>
        </div>
      )}
      <p>
        <a href={`/admin/broadcasts/${b.id}`}>Back to the draft</a>
      </p>
    </ConsoleLayout>
  );
}
