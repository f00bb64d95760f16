/** @jsxImportSource hono/jsx */
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';

export interface PageProps {
  title: string;
  bookTitle: string;
  lang?: string;
  /** The landing page is wider than the subscriber pages. */
  wide?: boolean;
  /** Script URLs from our own origin (the CSP allows no inline script). */
  scripts?: string[];
  /** The small line above the heading; the book's title unless said otherwise. */
  kicker?: string;
  children: Child;
}

/** Every subscriber-facing page: one small stylesheet, readable at 320 px, no script required. */
export function Page({ title, bookTitle, lang = 'en', wide = false, scripts = [], kicker, children }: PageProps) {
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang={lang}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex" />
          <title>{`${title} — ${bookTitle}`}</title>
          <link rel="stylesheet" href="/assets/quire.css" />
          {scripts.map((src) => (
            <script key={src} src={src} defer></script>
          ))}
        </head>
        <body>
          <main class={wide ? 'card wide' : 'card'}>
            <p class="book">{kicker ?? bookTitle}</p>
            {children}
          </main>
        </body>
      </html>
    </>
  );
}

export function MessagePage(props: { title: string; bookTitle: string; message: string; children?: Child }) {
  return (
    <Page title={props.title} bookTitle={props.bookTitle}>
      <h1>{props.title}</h1>
      <p>{props.message}</p>
      {props.children}
    </Page>
  );
}
