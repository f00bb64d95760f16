/** @jsxImportSource hono/jsx */

import type { OverviewBroadcast } from '../../core/stats.js';
import type { CountedOverview } from '../../core/stats-cache.js';
import { formatDateTime, formatNumber, formatPercent, isoTime } from './format.js';
import { GrowthChart } from './growth-chart.js';
import { ConsoleForm, ConsoleLayout } from './layout.js';

/** The overview: the list at a glance, for an author who would rather look than read. */

export interface ChecklistItem {
  title: string;
  ok: boolean;
  detail: string;
  todo?: string | undefined;
}

export interface OverviewPageProps {
  bookTitle: string;
  csrf: string;
  figures: CountedOverview;
  checklist: ChecklistItem[];
  notice?: { text: string; bad?: boolean } | undefined;
}

const STATUS_LABELS: [status: string, label: string][] = [
  ['active', 'Waiting for the book'],
  ['pending', 'Not confirmed yet'],
  ['unsubscribed', 'Unsubscribed'],
  ['bounced', 'Bounced'],
  ['complained', 'Marked as spam'],
  ['erased', 'Erased'],
];

export function OverviewPage({ bookTitle, csrf, figures: f, checklist, notice }: OverviewPageProps) {
  const todo = checklist.filter((c) => !c.ok).length;
  return (
    <ConsoleLayout title="Overview" section="overview" bookTitle={bookTitle} csrf={csrf} notice={notice}>
      <p class="lede">
        <strong id="waiting">{formatNumber(f.byStatus.active ?? 0)}</strong> people are waiting for the book
        {f.byStatus.pending ? `, and ${formatNumber(f.byStatus.pending)} more have not confirmed yet` : ''}.
      </p>
      <div class="panels">
        <section class="panel" aria-labelledby="who">
          <h2 id="who">Who is on the list</h2>
          <ul class="tiles" id="by-status">
            {STATUS_LABELS.map(([status, label]) => (
              <li key={status} data-status={status}>
                <a class="n" href={`/admin/subscribers?status=${status}`}>
                  {formatNumber(f.byStatus[status] ?? 0)}
                </a>
                <span class="what">{label}</span>
              </li>
            ))}
          </ul>
          <h3>Waiting, by topic</h3>
          <TopicBars topics={f.topics} active={f.byStatus.active ?? 0} />
        </section>
        <section class="panel" aria-labelledby="confirming">
          <h2 id="confirming">Signups that confirm</h2>
          <p class="big-figure" id="confirm-share">
            {formatPercent(f.confirmation.confirmed, f.confirmation.asked)}
          </p>
          <p>
            {f.confirmation.asked === 0
              ? 'Nobody has signed up in the last 90 days.'
              : `${formatNumber(f.confirmation.confirmed)} confirmations for ${formatNumber(f.confirmation.asked)} signup requests in the last 90 days.`}
          </p>
          <p class="muted small">
            A confirmation link works for 48 hours, so the newest signups may still confirm. A low share often means the
            confirmation mail lands in spam: see the checklist below.
          </p>
        </section>
      </div>
      <section class="panel" aria-labelledby="growth">
        <h2 id="growth">Growth over 90 days</h2>
        <GrowthChart days={f.growth.days} />
      </section>
      <section class="panel" aria-labelledby="recent">
        <h2 id="recent">Last broadcasts</h2>
        <RecentBroadcasts broadcasts={f.broadcasts} />
      </section>
      <div class="panels">
        <section class="panel" aria-labelledby="ledger">
          <h2 id="ledger">Consent ledger</h2>
          <LedgerSummary ledger={f.ledger} csrf={csrf} />
        </section>
        <section class="panel" aria-labelledby="deliverability">
          <h2 id="deliverability">Deliverability checklist</h2>
          <p>{todo === 0 ? 'Everything here is set up.' : `${todo} of ${checklist.length} need your attention.`}</p>
          <ul class="checklist">
            {checklist.map((c) => (
              <li key={c.title} data-ok={String(c.ok)}>
                <span class={c.ok ? 'badge ok' : 'badge bad'}>{c.ok ? 'Done' : 'To do'}</span>{' '}
                <strong>{c.title}</strong>: {c.detail}
                {!c.ok && c.todo ? <span class="todo">{c.todo}</span> : null}
              </li>
            ))}
          </ul>
        </section>
      </div>
      <p class="muted small" id="counted">
        {f.kept
          ? `Counted at ${formatDateTime(f.computedAt)}: on a list this size counting takes ${formatNumber(f.tookMs)} ms, so the figures are kept for a minute.`
          : `Counted just now, in ${formatNumber(f.tookMs)} ms.`}
      </p>
    </ConsoleLayout>
  );
}

function TopicBars({ topics, active }: { topics: CountedOverview['topics']; active: number }) {
  if (topics.length === 0) return <p>No topics yet.</p>;
  return (
    <table class="data" id="by-topic">
      <thead>
        <tr>
          <th scope="col">Topic</th>
          <th scope="col" class="num">
            People
          </th>
          <th scope="col">
            <span class="visually-hidden">Share of everyone waiting</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {topics.map((t) => (
          <tr key={t.slug} data-topic={t.slug}>
            <th scope="row">
              <a href={`/admin/subscribers?status=active&topic=${encodeURIComponent(t.slug)}`}>{t.name}</a>
            </th>
            <td class="num">{formatNumber(t.active)}</td>
            <td class="bar-cell">
              {/* SVG geometry, not a style attribute: the console's CSP allows no inline style. */}
              <svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">
                <rect width={active > 0 ? Math.round((t.active / active) * 100) : 0} height="8" rx="2" />
              </svg>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RecentBroadcasts({ broadcasts }: { broadcasts: OverviewBroadcast[] }) {
  if (broadcasts.length === 0) {
    return (
      <p>
        Nothing sent yet. <a href="/admin/broadcasts">Write the first broadcast</a>.
      </p>
    );
  }
  return (
    <div class="table-wrap">
      <table class="data stack" id="recent-broadcasts">
        <thead>
          <tr>
            <th scope="col">Subject</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Recipients
            </th>
            <th scope="col" class="num">
              Sent
            </th>
            <th scope="col" class="num">
              Waiting
            </th>
            <th scope="col" class="num">
              Failed
            </th>
            <th scope="col" class="num">
              Bounced
            </th>
          </tr>
        </thead>
        <tbody>
          {broadcasts.map((b) => (
            <tr key={b.id}>
              <th scope="row">
                <a href={`/admin/broadcasts/${b.id}`}>{b.subject}</a>
                <span class="muted small">
                  {' '}
                  · {b.topic} · <time datetime={isoTime(b.createdAt)}>{formatDateTime(b.createdAt)}</time>
                </span>
              </th>
              <td data-label="Status">
                <span class={b.status === 'sent' ? 'badge ok' : b.status === 'paused' ? 'badge bad' : 'badge'}>
                  {b.status}
                </span>
              </td>
              <td class="num" data-label="Recipients">
                {b.audienceCount === null ? '—' : formatNumber(b.audienceCount)}
              </td>
              <td class="num" data-label="Sent">
                {formatNumber(b.counts.sent)}
              </td>
              <td class="num" data-label="Waiting">
                {formatNumber(b.counts.queued + b.counts.sending)}
              </td>
              <td class="num" data-label="Failed">
                {formatNumber(b.counts.failed)}
              </td>
              <td class="num" data-label="Bounced">
                {formatNumber(b.counts.bounced)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function LedgerSummary({ ledger, csrf }: { ledger: CountedOverview['ledger']; csrf: string }) {
  const pending = `${formatNumber(ledger.pending)}${ledger.pendingCapped ? '+' : ''}`;
  return (
    <>
      <p id="ledger-state">
        {ledger.tail.ok ? <span class="badge ok">Intact</span> : <span class="badge bad">Broken</span>}{' '}
        {ledger.tail.ok
          ? `The newest ${formatNumber(ledger.tail.checked)} links of the chain check out.`
          : `The link at position ${formatNumber(ledger.tail.brokenAt ?? 0)} does not match its event: a sealed event was changed.`}
      </p>
      <dl class="profile">
        <dt>Events in the chain</dt>
        <dd id="ledger-sealed">{formatNumber(ledger.sealed)}</dd>
        <dt>Waiting to be sealed</dt>
        <dd id="ledger-pending">
          {pending}
          {ledger.oldestPendingAt ? (
            <span class="muted small"> (oldest from {formatDateTime(ledger.oldestPendingAt)})</span>
          ) : null}
        </dd>
      </dl>
      <p class="muted small">
        Every consent decision is an event linked to the one before by its hash, so no event can be changed or removed
        unnoticed. New events are sealed into the chain within a second.
      </p>
      <ConsoleForm action="/admin/ledger/verify" csrf={csrf}>
        <button type="submit" class="secondary small">
          Verify the whole chain
        </button>
      </ConsoleForm>
    </>
  );
}
