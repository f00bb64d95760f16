/** @jsxImportSource hono/jsx */
import type { BroadcastSummary } from '../../core/broadcast-report.js';
import { formatNumber as fmt, formatDateTime } from './format.js';
import { ConsoleLayout } from './layout.js';

/** The broadcasts list, and the template picker a new broadcast starts from. */

const STATUS_CLASS: Record<string, string> = { sent: 'badge ok', sending: 'badge ok', paused: 'badge bad' };

export function StatusBadge({ status }: { status: string }) {
  return <span class={STATUS_CLASS[status] ?? 'badge'}>{status}</span>;
}

export interface BroadcastsPageProps {
  bookTitle: string;
  csrf: string;
  broadcasts: BroadcastSummary[];
  notice?: { text: string; bad?: boolean } | undefined;
}

export function BroadcastsPage({ bookTitle, csrf, broadcasts, notice }: BroadcastsPageProps) {
  return (
    <ConsoleLayout title="Broadcasts" section="broadcasts" bookTitle={bookTitle} csrf={csrf} notice={notice}>
      <p class="actions">
        <a class="button" href="/admin/broadcasts/new">
          New broadcast
        </a>
      </p>
      {broadcasts.length === 0 ? (
        <p>No broadcasts yet. Start one from a template: a release announcement, or an update.</p>
      ) : (
        <div class="panel">
          <div class="table-wrap">
            <table class="data">
              <caption>Newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Subject</th>
                  <th scope="col">Status</th>
                  <th scope="col">Topic</th>
                  <th scope="col" class="num">
                    Recipients
                  </th>
                  <th scope="col" class="num">
                    Sent
                  </th>
                  <th scope="col" class="num">
                    Failed
                  </th>
                  <th scope="col" class="num">
                    Bounced
                  </th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {broadcasts.map((b) => (
                  <tr key={b.id}>
                    <td>
                      <a href={`/admin/broadcasts/${b.id}`}>{b.subject}</a>
                      <span class="muted small block">{b.template}</span>
                    </td>
                    <td>
                      <StatusBadge status={b.status} />
                    </td>
                    <td>{b.topic}</td>
                    <td class="num">{b.audienceCount === null ? '—' : fmt(b.audienceCount)}</td>
                    <td class="num">{fmt(b.counts.sent)}</td>
                    <td class="num">{fmt(b.counts.failed)}</td>
                    <td class="num">{fmt(b.counts.bounced)}</td>
                    <td class="small">{formatDateTime(b.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </ConsoleLayout>
  );
}

export interface TemplateChoice {
  name: string;
  description: string;
}

export function TemplatePickerPage(props: { bookTitle: string; csrf: string; templates: TemplateChoice[] }) {
  return (
    <ConsoleLayout title="New broadcast" section="broadcasts" bookTitle={props.bookTitle} csrf={props.csrf}>
      <p>Choose what you are announcing. The form that follows asks for exactly what the email shows.</p>
      <ul class="template-list">
        {props.templates.map((t) => (
          <li key={t.name} class="panel">
            <h2>
              <a href={`/admin/broadcasts/new?template=${encodeURIComponent(t.name)}`}>{t.name}</a>
            </h2>
            <p>{t.description}</p>
          </li>
        ))}
      </ul>
    </ConsoleLayout>
  );
}
