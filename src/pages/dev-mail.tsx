/** @jsxImportSource hono/jsx */
import { Page } from './layout.js';

export interface CapturedMailSummary {
  id: string;
  subject: string;
  to: string;
  date: string;
}

const KICKER = 'Development mailbox';

export function DevMailList({ bookTitle, mails }: { bookTitle: string; mails: CapturedMailSummary[] }) {
  return (
    <Page title="Captured mail" bookTitle={bookTitle} kicker={KICKER} wide>
      <h1>Captured mail</h1>
      <p>
        Emails the development server would have sent, newest first. Reload to see new ones: the delivery loop sends
        within a second or two.
      </p>
      {mails.length === 0 ? (
        <p>
          Nothing yet: sign up on the <a href="/">demo page</a>.
        </p>
      ) : (
        <ul class="mail-list">
          {mails.map((m) => (
            <li key={m.id}>
              <a href={`/_dev/mail/${encodeURIComponent(m.id)}`}>{m.subject}</a>
              <span class="meta">
                to {m.to} · <time datetime={m.date}>{m.date.replace('T', ' ').slice(0, 19)} UTC</time>
              </span>
            </li>
          ))}
        </ul>
      )}
      <p class="dev-note">
        <a href="/">Demo page</a> · <a href="/admin/preview">Email previews</a>
      </p>
    </Page>
  );
}

export function DevMailView(props: {
  bookTitle: string;
  subject: string;
  to: string;
  headers: [string, string][];
  htmlUrl: string;
  text: string;
  rawUrl: string;
}) {
  return (
    <Page title={props.subject} bookTitle={props.bookTitle} kicker={KICKER} wide scripts={['/_dev/mail-frame.js']}>
      <p>
        <a href="/_dev/mail">← All captured mail</a> · <a href={props.rawUrl}>raw .eml</a>
      </p>
      <h1>{props.subject}</h1>
      <p class="muted">To {props.to}</p>
      <h2>HTML part</h2>
      {/* Sandboxed: the mail runs no script, sends no form, and its links open in this tab. Same-origin
          (harmless without scripts) so /_dev/mail-frame.js can size the frame to the mail. */}
      <iframe
        class="mail-frame"
        title={`HTML part of “${props.subject}”`}
        src={props.htmlUrl}
        sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"
      ></iframe>
      <h2>Text part</h2>
      <pre>{props.text}</pre>
      <h2>Headers</h2>
      <dl class="headers">
        {props.headers.map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </>
        ))}
      </dl>
    </Page>
  );
}
