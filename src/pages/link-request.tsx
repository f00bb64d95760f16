/** @jsxImportSource hono/jsx */
import { MessagePage, Page } from './layout.js';

/** One address field and a button; the error (if any) is tied to the field for screen readers. */
export function EmailRequestForm({
  action,
  button,
  error,
  value,
}: {
  action: string;
  button: string;
  error?: string | undefined;
  value?: string | undefined;
}) {
  return (
    <form method="post" action={action}>
      <label for="request-email">Email address</label>
      <input
        id="request-email"
        name="email"
        type="email"
        autocomplete="email"
        required
        maxlength={254}
        value={value ?? ''}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? 'request-error' : undefined}
      />
      {error ? (
        <p id="request-error" class="error" role="alert">
          {error}
        </p>
      ) : null}
      <div class="actions">
        <button type="submit">{button}</button>
      </div>
    </form>
  );
}

/** "Manage my subscription": someone who lost the email asks for a fresh preferences link. */
export function ManagePage({
  bookTitle,
  error,
  value,
}: {
  bookTitle: string;
  error?: string | undefined;
  value?: string | undefined;
}) {
  return (
    <Page title="Manage my subscription" bookTitle={bookTitle}>
      <h1>Manage my subscription</h1>
      <p>
        Lost the email with your link? Enter your address and we'll email you a link to your preferences, where you can
        choose topics, unsubscribe, or download or delete your data.
      </p>
      <EmailRequestForm action="/manage" button="Email me a link" error={error} value={value} />
    </Page>
  );
}

export function ResendConfirmationPage({
  bookTitle,
  error,
  value,
}: {
  bookTitle: string;
  error?: string | undefined;
  value?: string | undefined;
}) {
  return (
    <Page title="Get a new confirmation link" bookTitle={bookTitle}>
      <h1>Get a new confirmation link</h1>
      <p>Enter the address you signed up with. If it is waiting for confirmation, we'll send a new link to it.</p>
      <EmailRequestForm action="/resend-confirmation" button="Send me a new link" error={error} value={value} />
    </Page>
  );
}

/** The same answer whatever the address: it must not tell anyone who is on the list. */
export const LinkSentPage = ({ bookTitle, what }: { bookTitle: string; what: 'preferences' | 'confirmation' }) => (
  <MessagePage
    bookTitle={bookTitle}
    title="Check your inbox"
    message={
      what === 'preferences'
        ? "If that address is on our list, we've sent it a link to your preferences."
        : "If that address is waiting for confirmation, we've sent it a new confirmation link."
    }
  >
    <p>
      It can take a few minutes to arrive. If nothing comes, check your spam folder, or the spelling of the address.
    </p>
  </MessagePage>
);
