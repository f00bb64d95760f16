/** @jsxImportSource hono/jsx */
import type { Preferences } from '../core/preferences.js';
import { TEXTS } from '../core/texts.js';
import { Page } from './layout.js';

/** What the page says after a POST redirected back to it (`?saved=`). */
export const preferenceNotices = {
  saved: 'Saved. Your preferences are up to date.',
  saved_nothing: TEXTS.preferencesSavedNothing,
  unsubscribed: "Done: you're unsubscribed from everything.",
  resubscribed: "You're back on the list.",
  unchanged: 'This address never confirmed its subscription, so it needs a fresh signup on the book’s site.',
} as const;
export type PreferenceNotice = keyof typeof preferenceNotices;

export interface PreferencesPageProps {
  bookTitle: string;
  prefs: Preferences;
  action: string;
  exportUrl: string;
  notice?: PreferenceNotice | undefined;
}

function statusLine(status: string): string {
  if (status === 'active') return "You're subscribed to the topics ticked below.";
  if (status === 'pending')
    return "You haven't confirmed your subscription yet: look for the confirmation email, or choose your topics now.";
  return "You're unsubscribed from everything, so you get no emails.";
}

/** The preference centre: topics, name, unsubscribe from everything, download or delete my data. */
export function PreferencesPage({ bookTitle, prefs, action, exportUrl, notice }: PreferencesPageProps) {
  const subscribed = prefs.status === 'active' || prefs.status === 'pending';
  return (
    <Page title="Your preferences" bookTitle={bookTitle}>
      <h1>Your preferences</h1>
      {notice ? (
        <p role="status" class={notice === 'unchanged' || notice === 'saved_nothing' ? 'notice-bad' : 'notice saved'}>
          {preferenceNotices[notice]}
        </p>
      ) : null}
      <p>
        Emails go to <strong>{prefs.email}</strong>. {statusLine(prefs.status)}
      </p>
      {subscribed ? null : (
        <form method="post" action={action}>
          <button type="submit" name="intent" value="resubscribe">
            Resubscribe
          </button>
        </form>
      )}

      <form method="post" action={action}>
        <fieldset>
          <legend>What would you like to hear about?</legend>
          {prefs.topics.map((t) => (
            <label key={t.slug} class="check" for={`topic-${t.slug}`}>
              <input id={`topic-${t.slug}`} type="checkbox" name="topics" value={t.slug} checked={t.subscribed} />
              <span>
                <strong>{t.name}</strong>
                {t.description ? ` — ${t.description}` : ''}
              </span>
            </label>
          ))}
        </fieldset>
        <label for="name">Your name (optional)</label>
        <input id="name" name="name" type="text" value={prefs.name ?? ''} autocomplete="name" maxlength={200} />
        <div class="actions">
          <button type="submit" name="intent" value="save">
            Save preferences
          </button>
        </div>
      </form>

      {subscribed ? (
        <form method="post" action={action}>
          <h2>Stop everything</h2>
          <p>No more emails about this book, whatever the topic.</p>
          <button type="submit" name="intent" value="unsubscribe_all" class="secondary">
            Unsubscribe from everything
          </button>
        </form>
      ) : null}

      <h2>Your data</h2>
      <p>
        <a href={exportUrl} download="my-subscription-data.json">
          Download my data
        </a>{' '}
        (JSON: your profile, topics, consent history and the emails we sent you).
      </p>
      <form method="post" action={action}>
        <p>Delete your address and name for good. You'll be asked to confirm.</p>
        <button type="submit" name="intent" value="erase_request" class="secondary">
          Delete my data…
        </button>
      </form>
    </Page>
  );
}

export function EraseConfirmPage({
  bookTitle,
  action,
  cancelUrl,
  subscribed,
}: {
  bookTitle: string;
  action: string;
  cancelUrl: string;
  /** Someone already unsubscribed has no subscription to keep: the way back says so. */
  subscribed: boolean;
}) {
  return (
    <Page title="Delete my data" bookTitle={bookTitle}>
      <h1>Delete my data?</h1>
      <p>
        This removes your address and name for good. We keep only a one-way fingerprint so the address cannot be added
        back without your consent, and the anonymous record of your consent choices. You can sign up again later.
      </p>
      <form method="post" action={action}>
        <input type="hidden" name="confirm" value="true" />
        <div class="actions">
          <button type="submit" name="intent" value="erase" class="danger">
            Yes, delete my data
          </button>
          <a href={cancelUrl}>{subscribed ? TEXTS.eraseKeepSubscription : TEXTS.eraseGoBack}</a>
        </div>
      </form>
    </Page>
  );
}
