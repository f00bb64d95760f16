/** @jsxImportSource hono/jsx */

import { TEXTS } from '../core/texts.js';
import { MessagePage, Page } from './layout.js';
import { EmailRequestForm } from './link-request.js';

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
    title={TEXTS.subscribedTitle}
    message={already ? 'Your subscription is already confirmed. Nothing more to do.' : TEXTS.subscribedBody}
  >
    {already ? null : <p>A welcome email with a link to your preferences is on its way.</p>}
  </MessagePage>
);

/** A confirmation link that was used before: nothing to do, but say where changes are made. */
export const ConfirmLinkUsedPage = ({ bookTitle }: Book) => (
  <MessagePage
    bookTitle={bookTitle}
    title="This link has already been used"
    message="This confirmation link has done its job: there is nothing more to do with it."
  >
    <p>
      Want to check or change what you receive? <a href="/manage">Get a link to your preferences</a> by email.
    </p>
  </MessagePage>
);

/** An expired or broken confirmation link: explain, and offer a fresh one by email. */
export function ConfirmLinkProblemPage({ bookTitle, reason }: Book & { reason: 'expired' | 'invalid' }) {
  const title = reason === 'expired' ? 'This link has expired' : 'This link does not work';
  const why =
    reason === 'expired'
      ? 'Confirmation links work for 48 hours, and this one is older than that.'
      : 'The link may have been cut short or changed on its way to you.';
  return (
    <Page title={title} bookTitle={bookTitle}>
      <h1>{title}</h1>
      <p>{why} Nothing has changed: you are not subscribed until you confirm.</p>
      <h2>Get a fresh link</h2>
      <p>Enter the address you signed up with. If it is waiting for confirmation, we'll send a new link to it.</p>
      <EmailRequestForm action="/resend-confirmation" button="Send me a new link" />
    </Page>
  );
}

export function UnsubscribePage({
  bookTitle,
  action,
  preferencesUrl,
}: Book & { action: string; preferencesUrl: string }) {
  return (
    <Page title="Unsubscribe" bookTitle={bookTitle}>
      <h1>Unsubscribe</h1>
      <p>Stop all emails about this book?</p>
      <form method="post" action={action}>
        <input type="hidden" name="List-Unsubscribe" value="One-Click" />
        <button type="submit">Unsubscribe</button>
      </form>
      <p class="muted">
        Rather hear about fewer things? <a href={preferencesUrl}>Choose your topics</a> instead.
      </p>
    </Page>
  );
}

export function UnsubscribedPage({
  bookTitle,
  preferencesUrl,
  resubscribeAction,
}: Book & { preferencesUrl: string; resubscribeAction: string }) {
  return (
    <MessagePage
      bookTitle={bookTitle}
      title="You're unsubscribed"
      message="You won't get any more emails about this book."
    >
      <h2>Changed your mind?</h2>
      <form method="post" action={resubscribeAction}>
        <button type="submit" class="secondary">
          Resubscribe
        </button>
      </form>
      <p>
        Or <a href={preferencesUrl}>manage your preferences</a>: pick topics, download or delete your data.
      </p>
    </MessagePage>
  );
}

export function ResubscribedPage({
  bookTitle,
  preferencesUrl,
  topics,
}: Book & { preferencesUrl: string; topics: string[] }) {
  return (
    <MessagePage bookTitle={bookTitle} title="You're back on the list" message={TEXTS.subscribedBody}>
      {topics.length > 0 ? <p>You'll hear about: {topics.join(', ')}.</p> : null}
      <p>
        <a href={preferencesUrl}>Manage your preferences</a>
      </p>
    </MessagePage>
  );
}

/** Resubscribing from a link only works for someone who once confirmed; anyone else signs up again. */
export const ResubscribeUnavailablePage = ({ bookTitle, preferencesUrl }: Book & { preferencesUrl: string }) => (
  <MessagePage
    bookTitle={bookTitle}
    title="We couldn't resubscribe you from this link"
    message="This address never confirmed its subscription, so it needs a fresh signup: use the form on the book's site and confirm the email we send."
  >
    <p>
      <a href={preferencesUrl}>Manage your preferences</a>
    </p>
  </MessagePage>
);

/** After a no-script signup: nothing is confirmed yet (double opt-in), so it says what to do next. */
export const SubscribedPage = ({ bookTitle }: Book) => (
  <MessagePage bookTitle={bookTitle} title={TEXTS.signupAcceptedTitle} message={TEXTS.signupAcceptedBody}>
    <p class="muted">
      {TEXTS.nothingArrived} <a href="/resend-confirmation">{TEXTS.newConfirmationLink}</a>.
    </p>
  </MessagePage>
);

export const ErrorPage = ({ bookTitle, title, message }: Book & { title: string; message: string }) => (
  <MessagePage bookTitle={bookTitle} title={title} message={message}>
    <p>
      Lost the email you need? <a href="/manage">Get a new link to your preferences</a>.
    </p>
  </MessagePage>
);
