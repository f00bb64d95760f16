/** @jsxImportSource hono/jsx */
import { TEXTS } from '../core/texts.js';

export interface SignupFormProps {
  /** Where the form posts: `/v1/subscriptions`, absolute on the author's site. */
  action: string;
  consentText: string;
  consentVersion: number;
  /** Signed render time for the minimum-fill-time check; only forms quire renders itself have one. */
  formStamp?: string | undefined;
  /** The `?error=` code a plain form post was sent back with. */
  error?: string | undefined;
  /** The fields to mark, when quire shows the form again itself; the error code's field otherwise. */
  invalid?: string[] | undefined;
  /** What was typed, when quire shows the form again itself. */
  values?: { email?: string | undefined; consent?: boolean | undefined } | undefined;
  /** The page the form is on: a plain post that needs correcting comes back to it. */
  returnTo?: string | undefined;
  /** SIGNUP_MIN_FILL_MS, for forms with a stamp: the script waits it out before sending. */
  minFillMs?: number | undefined;
  source?: string;
  /** For the copy-paste snippet: no quire stylesheet on the author's site, so the honeypot hides itself. */
  standalone?: boolean;
}

/** The message a plain (no-script) form post shows after being sent back with `?error=code`. */
export function signupErrorMessage(code: string | undefined, invalid: string[] = []): string | undefined {
  if (!code) return undefined;
  if (code === 'invalid_email' && invalid.includes('consent')) return `${TEXTS.invalidEmail} ${TEXTS.consentRequired}`;
  if (code === 'invalid_email') return TEXTS.invalidEmail;
  if (code === 'consent_required') return TEXTS.consentRequired;
  if (code === 'unknown_consent_version') return 'This form is out of date. Please reload the page and try again.';
  return TEXTS.serverFault;
}

/**
 * The embeddable signup form. A plain form post with no script at all; /assets/signup.js, when loaded,
 * submits it with fetch and shows the site's messages in place (`data-quire-*` hooks).
 */
export function SignupForm({
  action,
  consentText,
  consentVersion,
  formStamp,
  error,
  invalid,
  values = {},
  returnTo,
  minFillMs,
  source = 'book-site',
  standalone = false,
}: SignupFormProps) {
  const marked = invalid ?? (error === 'invalid_email' ? ['email'] : error === 'consent_required' ? ['consent'] : []);
  const message = signupErrorMessage(error, marked);
  const badEmail = marked.includes('email');
  const badConsent = marked.includes('consent');
  return (
    <form
      id="signup"
      class="quire-signup"
      method="post"
      action={action}
      data-quire-signup=""
      data-quire-min-fill-ms={formStamp && minFillMs ? String(minFillMs) : undefined}
    >
      <div data-quire-fields="">
        <label for="quire-email">Email address</label>
        <input
          id="quire-email"
          name="email"
          type="email"
          autocomplete="email"
          required
          maxlength={254}
          value={values.email}
          aria-describedby={message ? 'quire-error' : undefined}
          aria-invalid={badEmail ? 'true' : undefined}
        />
        {/* Honeypot: people never see it, so never fill it; bots that do are dropped quietly. */}
        <div
          class="quire-hp"
          aria-hidden="true"
          style={standalone ? 'position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden' : undefined}
        >
          <label for="quire-website">Leave this empty</label>
          <input id="quire-website" name="website" type="text" tabindex={-1} autocomplete="off" />
        </div>
        {formStamp ? <input type="hidden" name="form_ts" value={formStamp} /> : null}
        {returnTo ? <input type="hidden" name="return_to" value={returnTo} /> : null}
        <input type="hidden" name="consent_version" value={String(consentVersion)} />
        <input type="hidden" name="source" value={source} />
        <label class="check" for="quire-consent">
          <input
            id="quire-consent"
            type="checkbox"
            name="consent"
            value="true"
            required
            checked={values.consent}
            aria-describedby={badConsent ? 'quire-error' : undefined}
            aria-invalid={badConsent ? 'true' : undefined}
          />
          <span>{consentText}</span>
        </label>
        <p id="quire-error" class="quire-error" role="alert" data-quire-error="">
          {message ?? ''}
        </p>
        <button type="submit">Keep me posted</button>
      </div>
      <div class="quire-message" role="status" tabindex={-1} data-quire-status=""></div>
    </form>
  );
}

/** The copy-paste snippet for the author's site, with the current consent text and version. */
export async function signupSnippet(opts: {
  publicUrl: string;
  consentText: string;
  consentVersion: number;
}): Promise<string> {
  const form = await Promise.resolve(
    (
      <SignupForm
        action={`${opts.publicUrl}/v1/subscriptions`}
        consentText={opts.consentText}
        consentVersion={opts.consentVersion}
        standalone
      />
    ).toString(),
  );
  return `${form}\n<script src="${opts.publicUrl}/assets/signup.js" defer></script>\n`;
}
