/** @jsxImportSource hono/jsx */
import type { BroadcastProgress, BroadcastReport } from '../../core/broadcast-report.js';
import { StatusBadge } from './broadcasts.js';
import { formatNumber as fmt, formatDateTime } from './format.js';
import { ConsoleForm, ConsoleLayout } from './layout.js';

/**
 * A broadcast past its draft: live progress while it goes out, the controls its state allows, and the
 * report once it is done. The progress script refreshes the figures in place (each `data-k` element);
 * without it, a reload shows the same page with the latest figures.
 */

export interface StatusPageProps {
  bookTitle: string;
  csrf: string;
  progress: BroadcastProgress;
  report: BroadcastReport;
  topicName: string;
  notice?: { text: string; bad?: boolean } | undefined;
}

/** States whose figures move on their own; the progress script polls only these. */
const LIVE = new Set(['sending', 'scheduled', 'freezing']);

export function duration(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

const time = (d: Date | string | null) => (d ? formatDateTime(new Date(d)) : '—');

export function StatusPage({ bookTitle, csrf, progress: p, report, topicName, notice }: StatusPageProps) {
  const b = p.broadcast;
  const c = p.counts;
  const done = c.sent + c.failed + c.bounced + c.skipped;
  const base = `/admin/broadcasts/${b.id}`;
  return (
    <ConsoleLayout
      title={b.subject}
      section="broadcasts"
      bookTitle={bookTitle}
      csrf={csrf}
      notice={notice}
      scripts={LIVE.has(b.status) ? ['/assets/console-progress.js'] : []}
    >
      <section
        class="panel"
        id="progress"
        aria-labelledby="progress-heading"
        data-progress-url={`${base}/progress`}
        data-status={b.status}
      >
        <h2 id="progress-heading">
          Status: <StatusBadge status={b.status} />
        </h2>
        {b.statusReason ? <p class="muted">{b.statusReason}</p> : null}
        {b.status === 'scheduled' ? <p>Starts at {time(b.scheduledAt)}.</p> : null}
        <p class="lede" aria-live="polite">
          <span data-k="sent">{fmt(c.sent)}</span> of <span data-k="total">{fmt(p.total)}</span> sent
        </p>
        <progress max={Math.max(p.total, 1)} value={done} data-k="bar" aria-label="Share of the audience done">
          {fmt(done)} of {fmt(p.total)}
        </progress>
        {b.status === 'sent' || b.status === 'cancelled' ? null : (
          <>
            <ul class="tiles">
              <Tile k="rate" n={`${p.perSecond.toFixed(1)}/s`} what="sending rate" />
              <Tile k="eta" n={duration(p.etaSeconds)} what="left, at this rate" />
              <Tile k="remaining" n={fmt(p.remaining)} what="still to send" />
              <Tile k="failed" n={fmt(c.failed)} what="failed" />
              <Tile k="bounced" n={fmt(c.bounced)} what="bounced" />
              <Tile k="retrying" n={fmt(c.retrying)} what="waiting to retry" />
            </ul>
            <p class="muted small" data-k="next">
              {c.retrying && c.nextAttemptAt ? `Next retry at ${time(c.nextAttemptAt)}.` : ''}
            </p>
            <p class="small">
              <a href={base}>Refresh</a>
              {LIVE.has(b.status) ? (
                <span class="muted"> — with script on, these figures update by themselves.</span>
              ) : null}
            </p>
          </>
        )}
        <Controls base={base} csrf={csrf} status={b.status} failed={c.failed} />
      </section>

      {b.audienceFrozenAt ? <Report report={report} final={b.status === 'sent'} /> : null}

      <section class="panel" aria-labelledby="details-heading">
        <h2 id="details-heading">What went out</h2>
        <dl class="profile">
          <dt>Template</dt>
          <dd>{b.template}</dd>
          <dt>Topic</dt>
          <dd>
            {topicName} ({b.topic})
          </dd>
          <dt>Preheader</dt>
          <dd>{b.preheader || '—'}</dd>
          <dt>Started</dt>
          <dd>{time(b.audienceFrozenAt)}</dd>
          <dt>Finished</dt>
          <dd>{time(b.completedAt)}</dd>
        </dl>
        <p>
          <a href={`${base}/preview?format=html`} target="_blank" rel="noopener">
            The email
          </a>{' '}
          ·{' '}
          <a href={`${base}/preview?format=text`} target="_blank" rel="noopener">
            its text part
          </a>
        </p>
      </section>
    </ConsoleLayout>
  );
}

function Tile(props: { k: string; n: string; what: string }) {
  return (
    <li>
      <span class="n" data-k={props.k}>
        {props.n}
      </span>
      <span class="what">{props.what}</span>
    </li>
  );
}

function Controls({ base, csrf, status, failed }: { base: string; csrf: string; status: string; failed: number }) {
  const button = (action: string, label: string, cls = 'secondary') => (
    <ConsoleForm action={`${base}/${action}`} csrf={csrf} class="inline">
      <button type="submit" class={cls}>
        {label}
      </button>
    </ConsoleForm>
  );
  const any = ['scheduled', 'sending', 'paused'].includes(status) || (failed > 0 && status === 'sent');
  if (!any) return null;
  return (
    <div class="actions">
      {status === 'sending' || status === 'scheduled' ? button('pause', 'Pause') : null}
      {status === 'paused' ? button('resume', 'Resume', '') : null}
      {failed > 0 && ['sending', 'paused', 'sent'].includes(status)
        ? button('retry-failed', `Retry ${fmt(failed)} failed`)
        : null}
      {['scheduled', 'sending', 'paused'].includes(status) ? (
        <details>
          <summary>Cancel this broadcast…</summary>
          <p class="small">Nobody still waiting gets it. This cannot be undone.</p>
          {button('cancel', 'Cancel the broadcast', 'danger')}
        </details>
      ) : null}
    </div>
  );
}

function Report({ report: r, final }: { report: BroadcastReport; final: boolean }) {
  return (
    <section class="panel" id="report" aria-labelledby="report-heading">
      <h2 id="report-heading">{final ? 'Report' : 'Report so far'}</h2>
      <ul class="tiles">
        <li>
          <span class="n">{fmt(r.delivered)}</span>
          <span class="what">delivered</span>
        </li>
        <li>
          <span class="n">{fmt(r.bounced)}</span>
          <span class="what">bounced</span>
        </li>
        <li>
          <span class="n">{fmt(r.complained)}</span>
          <span class="what">marked as spam</span>
        </li>
        <li>
          <span class="n">{fmt(r.unsubscribed)}</span>
          <span class="what">unsubscribed since</span>
        </li>
        <li>
          <span class="n">{fmt(r.failed)}</span>
          <span class="what">failed</span>
        </li>
        <li>
          <span class="n">{fmt(r.skipped)}</span>
          <span class="what">skipped</span>
        </li>
      </ul>
      <p class="muted small">
        Delivered: accepted by the receiving server. Bounces and spam reports can arrive days later; this page counts
        them as they come in. Skipped: unsubscribed or suppressed after the list was frozen, or cancelled.
      </p>
    </section>
  );
}
