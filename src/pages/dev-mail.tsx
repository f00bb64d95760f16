/** @jsxImportSource hono/jsx */
import { Page } from './layout.js';

export interface CapturedMailSummary {
  id: string;
  subject: string;
  to: string;
  date: string;
}

export function DevMailList({ bookTitle, mails }: { bookTitle: string; mails: CapturedMailSummary[] }) {
  return (
    <Page title="Captured mail" bookTitle={bookTitle}>
      <h1>Captured mail</h1>
      <p>Emails the development server would have sent. Newest first.</p>
      {mails.length === 0 ? <p>Nothing yet: sign up on the <a href="/">demo page</a>.</p> : null}
      <ul>
        {mails.map((m) => (
          <li>
            <a href={`/_dev/mail/${encodeURIComponent(m.id)}`}>{m.subject}</a> — to {m.to} — {m.date}
          </li>
        ))}
      </ul>
    </Page>
  );
}

export function DevMailView(props: { bookTitle: string; subject: string; headers: [string, string][]; html: string; text: string; rawUrl: string }) {
  return (
    <Page title={props.subject} bookTitle={props.bookTitle}>
      <p>
        <a href="/_dev/mail">← All captured mail</a> · <a href={props.rawUrl}>raw .eml</a>
      </p>
      <h1>{props.subject}</h1>
      <iframe title="HTML part" sandbox="allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation" srcdoc={props.html} style="width:100%;height:32rem;border:1px solid #ccc" />
      <h2>Text part</h2>
      <pre style="white-space:pre-wrap">{props.text}</pre>
      <h2>Headers</h2>
      <dl>
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
