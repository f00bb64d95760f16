/** @jsxImportSource hono/jsx */
import { ConsoleDocument } from './layout.js';

export interface SignInPageProps {
  bookTitle: string;
  /** The sign-in form's own CSRF token; undefined when the console is off (no ADMIN_TOKEN). */
  csrf?: string | undefined;
  next: string;
  error?: string | undefined;
  notice?: string | undefined;
}

/**
 * Sign-in with the admin token. The token goes in a password field of a POST form, so it never lands
 * in a URL, the browser's history or a log line; a password manager may keep it.
 */
export function SignInPage({ bookTitle, csrf, next, error, notice }: SignInPageProps) {
  return (
    <ConsoleDocument title="Sign in" bookTitle={bookTitle}>
      <main class="card" id="main">
        <p class="book">quire · {bookTitle}</p>
        <h1>Sign in to the console</h1>
        {notice ? (
          <p class="notice" role="status">
            {notice}
          </p>
        ) : null}
        {csrf === undefined ? (
          <p class="notice-bad">
            The console is off because no admin token is configured. Set <code>ADMIN_TOKEN</code> (at least 16
            characters) and restart quire.
          </p>
        ) : (
          <form method="post" action="/admin/login">
            <input type="hidden" name="_csrf" value={csrf} />
            <input type="hidden" name="next" value={next} />
            {/* A username field (hidden) lets password managers file the token under this console. */}
            <input type="text" name="username" value="admin" autocomplete="username" hidden />
            <label for="token">Admin token</label>
            <input
              type="password"
              id="token"
              name="token"
              required
              autocomplete="current-password"
              spellcheck={false}
              aria-invalid={error ? 'true' : undefined}
              aria-describedby={error ? 'token-error' : 'token-help'}
            />
            {error ? (
              <p id="token-error" class="error" role="alert">
                {error}
              </p>
            ) : (
              <p id="token-help" class="muted small">
                The <code>ADMIN_TOKEN</code> quire was started with. You stay signed in on this browser for 12 hours.
              </p>
            )}
            <div class="actions">
              <button type="submit">Sign in</button>
            </div>
          </form>
        )}
      </main>
    </ConsoleDocument>
  );
}
