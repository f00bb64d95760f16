/** @jsxImportSource hono/jsx */
import type { Preferences } from '../core/preferences.js';
import { Page } from './layout.js';

export interface PreferencesPageProps {
  bookTitle: string;
  prefs: Preferences;
  action: string;
  exportUrl: string;
  saved?: boolean;
}

/** The preference centre: topics, name, unsubscribe from everything, download or delete my data. */
export function PreferencesPage({ bookTitle, prefs, action, exportUrl, saved }: PreferencesPageProps) {
  const unsubscribed = prefs.status !== 'active' && prefs.status !== 'pending';
  return (
    <Page title="Your preferences" bookTitle={bookTitle}>
      <h1>Your preferences</h1>
      <p>
        Emails go to <strong>{prefs.email}</strong>.
        {unsubscribed ? ' You are unsubscribed from everything.' : ''}
      </p>
      {saved ? (
        <p role="status" class="saved">
          Saved.
        </p>
      ) : null}
      <form method="post" action={action}>
        <fieldset>
          <legend>What would you like to hear about?</legend>
          {prefs.topics.map((t) => (
            <label>
              <input type="checkbox" name="topics" value={t.slug} checked={t.subscribed} /> <strong>{t.name}</strong> — {t.description}
            </label>
          ))}
        </fieldset>
        <label for="name">Your name (optional)</label>
        <input id="name" name="name" type="text" value={prefs.name ?? ''} autocomplete="name" maxlength={200} />
        <p>
          <button type="submit" name="intent" value="save">
            Save preferences
          </button>
        </p>
        <p>
          <button type="submit" name="intent" value="unsubscribe_all" class="secondary">
            Unsubscribe from everything
          </button>
        </p>
      </form>
      <h2>Your data</h2>
      <p>
        <a href={exportUrl} download="my-subscription-data.json">
          Download my data
        </a>{' '}
        (JSON: your profile, topics, consent history and the emails we sent you).
      </p>
      <form method="post" action={action}>
        <button type="submit" name="intent" value="erase_request" class="secondary">
          Delete my data…
        </button>
      </form>
    </Page>
  );
}

export function EraseConfirmPage({ bookTitle, action }: { bookTitle: string; action: string }) {
  return (
    <Page title="Delete my data" bookTitle={bookTitle}>
      <h1>Delete my data?</h1>
      <p>
        This removes your address and name for good. We keep only a one-way fingerprint so the address cannot be added back
        without your consent, and the anonymous record of your consent choices. You can sign up again later.
      </p>
      <form method="post" action={action}>
        <input type="hidden" name="confirm" value="true" />
        <button type="submit" name="intent" value="erase">
          Yes, delete my data
        </button>
      </form>
    </Page>
  );
}
