/** @jsxImportSource hono/jsx */
import { Page, SITE_MESSAGES } from './layout.js';

export interface SignupFormProps {
  action: string;
  consentText: string;
  consentVersion: number;
  formStamp: string;
  error?: string | undefined;
}

/** The embeddable signup form: works as a plain form post, no script needed. */
export function SignupForm({ action, consentText, consentVersion, formStamp, error }: SignupFormProps) {
  const message = error === 'invalid_email' ? SITE_MESSAGES.invalidEmail : error ? SITE_MESSAGES.serverFault : undefined;
  return (
    <form id="signup" method="post" action={action}>
      <label for="email">Email address</label>
      <input id="email" name="email" type="email" autocomplete="email" required aria-describedby="consent-text" />
      <div class="hp" aria-hidden="true">
        <label for="website">Leave this empty</label>
        <input id="website" name="website" type="text" tabindex={-1} autocomplete="off" />
      </div>
      <input type="hidden" name="form_ts" value={formStamp} />
      <input type="hidden" name="consent_version" value={String(consentVersion)} />
      <label>
        <input type="checkbox" name="consent" value="true" required /> <span id="consent-text">{consentText}</span>
      </label>
      {message ? (
        <p class="error" role="alert">
          {message}
        </p>
      ) : null}
      <button type="submit">Keep me posted</button>
    </form>
  );
}

export function LandingPage(props: SignupFormProps & { bookTitle: string }) {
  return (
    <Page title="Coming soon" bookTitle={props.bookTitle}>
      <h1>{props.bookTitle}</h1>
      <p>
        A practical exploration of how engineering teams reduce uncertainty, clarify scope, and make technical decisions before
        implementation.
      </p>
      <p>
        Most engineering teams plan their work through some form of refinement session. Few do it well. The difference between
        teams that ship predictably and those that constantly face surprises often comes down to how they approach technical
        planning.
      </p>
      <SignupForm {...props} />
      <p class="book">Development demo — captured emails are at <a href="/_dev/mail">/_dev/mail</a>.</p>
    </Page>
  );
}
