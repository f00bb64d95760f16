/** @jsxImportSource hono/jsx */
import type { SubscriberRecord } from '../../core/subscriber-record.js';
import { formatDateTime, isoTime } from './format.js';
import { ConsoleForm, ConsoleLayout } from './layout.js';
import { StatusBadge } from './subscribers.js';

/** One subscriber: who they are, what they chose, what they agreed to and when, and what was sent. */

const EVENT_NAMES: Record<string, string> = {
  requested: 'Signed up and was asked to confirm',
  confirmed: 'Confirmed the subscription',
  topics_changed: 'Changed topics',
  unsubscribed: 'Unsubscribed',
  resubscribed: 'Subscribed again',
  imported: 'Imported with consent given elsewhere',
  suppressed: 'Stopped by a bounce or complaint',
  erased: 'Erased',
};

const DELIVERY_NAMES: Record<string, string> = {
  confirmation: 'Confirmation request',
  welcome: 'Welcome',
  preferences_link: 'Link to preferences',
  broadcast: 'Broadcast',
  test: 'Test send',
};

const When = ({ at }: { at: Date | null }) =>
  at ? <time datetime={isoTime(at)}>{formatDateTime(at)}</time> : <span class="muted">—</span>;

export interface SubscriberPageProps {
  bookTitle: string;
  csrf: string;
  record: SubscriberRecord;
  notice?: { text: string; bad?: boolean } | undefined;
}

export function SubscriberPage({ bookTitle, csrf, record: r, notice }: SubscriberPageProps) {
  const base = `/admin/subscribers/${r.id}`;
  return (
    <ConsoleLayout
      title={r.email ?? 'Erased subscriber'}
      section="subscribers"
      bookTitle={bookTitle}
      csrf={csrf}
      notice={notice}
    >
      <p>
        <a href="/admin/subscribers">All subscribers</a>
      </p>
      <div class="panels">
        <section class="panel" aria-labelledby="profile">
          <h2 id="profile">Profile</h2>
          <dl class="profile">
            <dt>Status</dt>
            <dd id="status">
              <StatusBadge status={r.status} />
            </dd>
            <dt>Address</dt>
            <dd>{r.email ?? <span class="muted">erased</span>}</dd>
            <dt>Name</dt>
            <dd>{r.name ?? <span class="muted">not given</span>}</dd>
            <dt>Source</dt>
            <dd>{r.source ?? <span class="muted">—</span>}</dd>
            <dt>Language</dt>
            <dd>{r.locale}</dd>
            <dt>Signed up</dt>
            <dd>
              <When at={r.createdAt} />
            </dd>
            <dt>Confirmed</dt>
            <dd>
              <When at={r.confirmedAt} />
            </dd>
            <dt>Status since</dt>
            <dd>
              <When at={r.statusChangedAt} />
            </dd>
          </dl>
        </section>
        <section class="panel" aria-labelledby="topics">
          <h2 id="topics">Topics</h2>
          {r.status !== 'active' && r.status !== 'erased' ? (
            <p class="muted small">What they chose; nothing is sent to them while they are not subscribed.</p>
          ) : null}
          <ul id="topic-list">
            {r.topics.map((t) => (
              <li key={t.slug}>
                <strong>{t.name}</strong>: {t.subscribed ? 'yes' : 'no'}
                {t.changedAt ? (
                  <span class="muted small">
                    {' '}
                    (since <When at={t.changedAt} />)
                  </span>
                ) : null}
              </li>
            ))}
          </ul>
          <Actions base={base} csrf={csrf} status={r.status} />
        </section>
      </div>
      <section class="panel" aria-labelledby="consent">
        <h2 id="consent">Consent timeline</h2>
        <p class="muted small">
          From the consent ledger: every decision, oldest first, with the words shown at the time.
        </p>
        <ol class="timeline" id="timeline">
          {r.consentHistory.map((e) => (
            <li key={String(e.seq)} data-kind={e.kind}>
              <strong>{EVENT_NAMES[e.kind] ?? e.kind}</strong> · <When at={e.occurredAt} />
              {e.source ? <span class="muted small"> · via {e.source}</span> : null}
              {e.topics.length ? <span class="muted small"> · topics: {e.topics.join(', ')}</span> : null}
              {e.consentTextVersion !== null ? (
                <>
                  <div class="small">Consent text version {e.consentTextVersion}:</div>
                  <blockquote>{e.consentText ?? 'wording not found'}</blockquote>
                </>
              ) : null}
              <div class="muted small">
                {e.hash ? (
                  <>
                    Sealed in the chain: <code>{e.hash.slice(0, 16)}…</code>
                  </>
                ) : (
                  'Not sealed into the chain yet.'
                )}
              </div>
            </li>
          ))}
        </ol>
      </section>
      <section class="panel" aria-labelledby="sent">
        <h2 id="sent">Messages</h2>
        {r.deliveries.length === 0 ? (
          <p>Nothing has been sent to this subscriber.</p>
        ) : (
          <div class="table-wrap">
            <table class="data stack" id="deliveries">
              <caption>Newest first{r.moreDeliveries ? ` (the latest ${r.deliveries.length})` : ''}</caption>
              <thead>
                <tr>
                  <th scope="col">Message</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">
                    Attempts
                  </th>
                  <th scope="col">Queued</th>
                  <th scope="col">Sent</th>
                </tr>
              </thead>
              <tbody>
                {r.deliveries.map((d) => (
                  <tr key={d.id}>
                    <th scope="row">
                      {d.broadcastId ? (
                        <a href={`/admin/broadcasts/${d.broadcastId}`}>{d.subject ?? DELIVERY_NAMES[d.kind]}</a>
                      ) : (
                        (DELIVERY_NAMES[d.kind] ?? d.kind)
                      )}
                    </th>
                    <td data-label="Status">
                      {d.status}
                      {d.lastError ? <div class="muted small">{d.lastError}</div> : null}
                    </td>
                    <td class="num" data-label="Attempts">
                      {d.attempts}
                    </td>
                    <td data-label="Queued">
                      <When at={d.createdAt} />
                    </td>
                    <td data-label="Sent">
                      <When at={d.sentAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </ConsoleLayout>
  );
}

/** What the author may do here: each a form posting back, behind the console's CSRF check. */
function Actions({ base, csrf, status }: { base: string; csrf: string; status: string }) {
  if (status === 'erased') return <p class="muted">Erased: only the pseudonymous ledger remains.</p>;
  return (
    <>
      <h3>Actions</h3>
      <div class="actions">
        {status === 'pending' ? (
          <ConsoleForm action={`${base}/resend-confirmation`} csrf={csrf}>
            <button type="submit" class="secondary">
              Resend the confirmation mail
            </button>
          </ConsoleForm>
        ) : null}
        {status === 'active' || status === 'pending' ? (
          <ConsoleForm action={`${base}/unsubscribe`} csrf={csrf}>
            <button type="submit" class="secondary">
              Unsubscribe
            </button>
          </ConsoleForm>
        ) : null}
        <a href={`${base}/erase`}>Erase…</a>
      </div>
    </>
  );
}

/** The step before erasing: what goes, what stays, and a button that says so. */
export function EraseSubscriberPage(props: { bookTitle: string; csrf: string; id: string; email: string }) {
  const base = `/admin/subscribers/${props.id}`;
  return (
    <ConsoleLayout title="Erase this subscriber?" section="subscribers" bookTitle={props.bookTitle} csrf={props.csrf}>
      <section class="panel danger-zone" aria-labelledby="erase">
        <h2 id="erase">{props.email}</h2>
        <p>
          Erasing removes the address, the name, the topics and every copy of the address in sent mail records. It
          cannot be undone.
        </p>
        <p>
          What stays: a keyed hash of the address on the suppression list, so an old import cannot bring it back, and
          the pseudonymous consent ledger, which never held the address.
        </p>
        <ConsoleForm action={`${base}/erase`} csrf={props.csrf}>
          <input type="hidden" name="confirm" value="yes" />
          <div class="actions">
            <button type="submit" class="danger">
              Erase this subscriber
            </button>
            <a href={base}>Keep them</a>
          </div>
        </ConsoleForm>
      </section>
    </ConsoleLayout>
  );
}
