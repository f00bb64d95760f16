/** @jsxImportSource hono/jsx */
import { subscriberStatuses } from '../../db/schema.js';
import { formatDateTime, isoTime } from './format.js';
import { ConsoleLayout } from './layout.js';

/** The subscriber list: search, filters, and pages that follow each other by cursor. */

export const STATUS_NAMES: Record<string, string> = {
  pending: 'Not confirmed yet',
  active: 'Subscribed',
  unsubscribed: 'Unsubscribed',
  bounced: 'Bounced',
  complained: 'Marked as spam',
  erased: 'Erased',
};

export function StatusBadge({ status }: { status: string }) {
  const tone = status === 'active' ? 'badge ok' : status === 'pending' || status === 'erased' ? 'badge' : 'badge bad';
  return <span class={tone}>{STATUS_NAMES[status] ?? status}</span>;
}

export interface SubscriberFilters {
  search?: string | undefined;
  status?: string | undefined;
  topic?: string | undefined;
  source?: string | undefined;
}

export interface SubscribersPageProps {
  bookTitle: string;
  csrf: string;
  filters: SubscriberFilters;
  topics: { slug: string; name: string }[];
  rows: {
    id: string;
    email: string | null;
    name: string | null;
    status: string;
    source: string | null;
    createdAt: Date;
    confirmedAt: Date | null;
  }[];
  /** The link to the next page, or null on the last one. */
  nextHref: string | null;
  /** Whether this is a later page (a link back to the first one is shown). */
  paged: boolean;
}

export function SubscribersPage(p: SubscribersPageProps) {
  const filtered = Object.values(p.filters).some((v) => v);
  return (
    <ConsoleLayout title="Subscribers" section="subscribers" bookTitle={p.bookTitle} csrf={p.csrf}>
      <search class="panel">
        <form method="get" action="/admin/subscribers" class="filters">
          <div class="field wide">
            <label for="search">Address or name starts with</label>
            <input type="search" id="search" name="search" value={p.filters.search ?? ''} autocomplete="off" />
          </div>
          <div class="field">
            <label for="status">Status</label>
            <select id="status" name="status">
              <option value="">Any</option>
              {subscriberStatuses.map((s) => (
                <option key={s} value={s} selected={p.filters.status === s}>
                  {STATUS_NAMES[s]}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="topic">Topic</label>
            <select id="topic" name="topic">
              <option value="">Any</option>
              {p.topics.map((t) => (
                <option key={t.slug} value={t.slug} selected={p.filters.topic === t.slug}>
                  {t.name}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="source">Source</label>
            <input type="text" id="source" name="source" value={p.filters.source ?? ''} autocomplete="off" />
          </div>
          <div class="field actions">
            <button type="submit">Search</button>
            {filtered ? <a href="/admin/subscribers">Clear</a> : null}
          </div>
        </form>
      </search>
      {p.rows.length === 0 ? (
        <p role="status">{filtered ? 'Nobody matches these filters.' : 'Nobody has signed up yet.'}</p>
      ) : (
        <div class="panel">
          <div class="table-wrap">
            <table class="data stack" id="subscribers">
              <caption>Newest first{p.paged ? ' (a later page)' : ''}</caption>
              <thead>
                <tr>
                  <th scope="col">Address</th>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Source</th>
                  <th scope="col">Signed up</th>
                </tr>
              </thead>
              <tbody>
                {p.rows.map((r) => (
                  <tr key={r.id}>
                    <th scope="row">
                      <a href={`/admin/subscribers/${r.id}`}>{r.email ?? 'erased subscriber'}</a>
                    </th>
                    <td data-label="Name">{r.name ?? ''}</td>
                    <td data-label="Status">
                      <StatusBadge status={r.status} />
                    </td>
                    <td data-label="Source">{r.source ?? ''}</td>
                    <td data-label="Signed up">
                      <time datetime={isoTime(r.createdAt)}>{formatDateTime(r.createdAt)}</time>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Pages">
            {p.paged ? <a href={firstPageHref(p.filters)}>Newest</a> : <span></span>}
            {p.nextHref ? (
              <a href={p.nextHref} rel="next">
                Older subscribers
              </a>
            ) : (
              <span class="muted small">That is everyone.</span>
            )}
          </nav>
        </div>
      )}
    </ConsoleLayout>
  );
}

/** The list's URL for these filters, from its first page or from `cursor`. */
export function listHref(filters: SubscriberFilters, cursor?: string): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  if (cursor) q.set('cursor', cursor);
  const s = q.toString();
  return s ? `/admin/subscribers?${s}` : '/admin/subscribers';
}

const firstPageHref = (filters: SubscriberFilters) => listHref(filters);
