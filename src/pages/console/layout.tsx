/** @jsxImportSource hono/jsx */
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';

/**
 * The author's console: one layout for every page, and one form helper that carries the CSRF field.
 *
 * Adding a console page (the broadcast and import areas are built this way):
 *  1. Components in `src/pages/console/<area>.tsx`; a page renders
 *     `<ConsoleLayout title=… section="broadcasts" bookTitle=… csrf={csrf}>…</ConsoleLayout>`.
 *  2. One route a file in `src/routes/console/<area>/<route>.tsx`, each behind the guard:
 *       app.get('/admin/broadcasts', consoleGuard, (c) => {
 *         const { csrf } = consoleSession(c);
 *         return c.html(<BroadcastsPage csrf={csrf} … />);
 *       });
 *     (`consoleGuard` and `consoleSession` from src/routes/console/auth/guard.ts). The guard answers with
 *     the console's CSP, sends anyone signed out to the sign-in page, and on a POST refuses a cross-site
 *     request and a form without this session's `_csrf` value (403) before the handler runs.
 *  3. Every form is a `<ConsoleForm action=… csrf={csrf}>`; it posts with the `_csrf` field. The handler
 *     reads the fields with `readForm(c, schema)` (src/routes/body.ts), calls core/, and answers with a
 *     303 redirect back to a page (`?done=…` for a notice), so a reload never posts twice.
 *  4. Register the area's routes in `src/routes/console/<area>/index.ts`, and that in
 *     `src/routes/console/index.ts` with one line.
 *  5. Scripts: same-origin files only (the CSP has no inline script), listed in `scripts`; the page must
 *     work without them. Styles go in src/pages/stylesheet.ts, in the console's block.
 * Console texts live with the console pages; what a reader sees stays in src/core/texts.ts.
 */

export type ConsoleSection = 'overview' | 'subscribers' | 'broadcasts' | 'import';

export const CONSOLE_NAV: { section: ConsoleSection; href: string; label: string }[] = [
  { section: 'overview', href: '/admin', label: 'Overview' },
  { section: 'subscribers', href: '/admin/subscribers', label: 'Subscribers' },
  { section: 'broadcasts', href: '/admin/broadcasts', label: 'Broadcasts' },
  { section: 'import', href: '/admin/import', label: 'Import/Export' },
];

export interface ConsoleLayoutProps {
  title: string;
  bookTitle: string;
  /** Which nav entry is current; none on pages outside the four areas. */
  section?: ConsoleSection | undefined;
  /** The session's CSRF token, for the sign-out form in the header. */
  csrf: string;
  /** Same-origin script URLs, deferred. */
  scripts?: string[];
  /** A one-line result of the last action ("Unsubscribed."), shown as a status message. */
  notice?: { text: string; bad?: boolean } | undefined;
  children: Child;
}

export function ConsoleLayout({ title, bookTitle, section, csrf, scripts = [], notice, children }: ConsoleLayoutProps) {
  return (
    <ConsoleDocument title={title} bookTitle={bookTitle} scripts={scripts}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="console-header">
        <p class="console-brand">
          <span class="muted">quire · </span>
          {bookTitle}
        </p>
        <nav aria-label="Console">
          <ul class="console-nav">
            {CONSOLE_NAV.map((n) => (
              <li key={n.section}>
                <a href={n.href} aria-current={n.section === section ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <ConsoleForm action="/admin/logout" csrf={csrf} class="console-signout">
          <button type="submit" class="secondary small">
            Sign out
          </button>
        </ConsoleForm>
      </header>
      <main id="main" class="console-main">
        <h1>{title}</h1>
        {notice ? (
          <p class={notice.bad ? 'notice-bad' : 'notice'} role="status">
            {notice.text}
          </p>
        ) : null}
        {children}
      </main>
    </ConsoleDocument>
  );
}

/** The document around a console page, also used bare by the sign-in page. */
export function ConsoleDocument(props: { title: string; bookTitle: string; scripts?: string[]; children: Child }) {
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex" />
          <title>{`${props.title} — quire console — ${props.bookTitle}`}</title>
          <link rel="stylesheet" href="/assets/quire.css" />
          {(props.scripts ?? []).map((src) => (
            <script key={src} src={src} defer></script>
          ))}
        </head>
        <body class="console">{props.children}</body>
      </html>
    </>
  );
}

/** A POST form with this session's CSRF token; every console form is one of these. */
export function ConsoleForm(props: { action: string; csrf: string; class?: string; id?: string; children: Child }) {
  return (
    <form method="post" action={props.action} class={props.class} id={props.id}>
      <input type="hidden" name="_csrf" value={props.csrf} />
      {props.children}
    </form>
  );
}
