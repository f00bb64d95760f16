/** @jsxImportSource hono/jsx */
import { MessagePage, Page, SITE_MESSAGES } from './layout.js';

type Book = { bookTitle: string };

export function ConfirmPage({ bookTitle, action }: Book & { action: string }) {
  return (
    <Page title="Confirm your subscription" bookTitle={bookTitle}>
      <h1>Confirm your subscription</h1>
      <p>One click and you'll hear when the book is available, plus occasional updates.</p>
      {/* Only a POST confirms: mail scanners that prefetch links must not subscribe anyone. */}
      <form method="post" action={action}>
        <button type="submit">Confirm my subscription</button>
      </form>
    </Page>
  );
}

export const ConfirmedPage = ({ bookTitle, already }: Book & { already: boolean }) => (
  <MessagePage
    bookTitle={bookTitle}
    title={SITE_MESSAGES.subscribedTitle}
    message={already ? 'Your subscription is already confirmed. Nothing more to do.' : SITE_MESSAGES.subscribedBody}
  />
);

export function UnsubscribePage({ bookTitle, action }: Book & { action: string }) {
  return (
    <Page title="Unsubscribe" bookTitle={bookTitle}>
      <h1>Unsubscribe</h1>
      <p>Stop all emails about this book?</p>
      <form method="post" action={action}>
        <input type="hidden" name="List-Unsubscribe" value="One-Click" />
        <button type="submit">Unsubscribe</button>
      </form>
    </Page>
  );
}

export function UnsubscribedPage({ bookTitle, preferencesUrl }: Book & { preferencesUrl?: string | undefined }) {
  return (
    <MessagePage bookTitle={bookTitle} title="You're unsubscribed" message="You won't get any more emails about this book.">
      {preferencesUrl ? (
        <p>
          Changed your mind? <a href={preferencesUrl}>Manage your preferences</a>.
        </p>
      ) : null}
    </MessagePage>
  );
}

export const SubscribedPage = ({ bookTitle }: Book) => (
  <MessagePage bookTitle={bookTitle} title={SITE_MESSAGES.subscribedTitle} message={SITE_MESSAGES.subscribedBody}>
    <p>{SITE_MESSAGES.checkInbox}</p>
  </MessagePage>
);

export const ErrorPage = ({ bookTitle, title, message }: Book & { title: string; message: string }) => (
  <MessagePage bookTitle={bookTitle} title={title} message={message} />
);
