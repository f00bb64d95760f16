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
  source?: string;
  /** For the copy-paste snippet: no quire stylesheet on the author's site, so the honeypot hides itself. */
  standalone?: boolean;
}

/** The message a plain (no-script) form post shows after being sent back with `?error=code`. */
export function signupErrorMessage(code: string | undefined): string | undefined {
  if (!code) return undefined;
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
  source = 'book-site',
  standalone = false,
}: SignupFormProps) {
  const message = signupErrorMessage(error);
  const badEmail = error === 'invalid_email';
  return (
    <form id="signup" class="quire-signup" method="post" action={action} data-quire-signup="">
      <div data-quire-fields="">
        <label for="quire-email">Email address</label>
        <input
          id="quire-email"
          name="email"
          type="email"
          autocomplete="email"
          required
          maxlength={254}
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
        <input type="hidden" name="consent_version" value={String(consentVersion)} />
        <input type="hidden" name="source" value={source} />
        <label class="check" for="quire-consent">
          <input id="quire-consent" type="checkbox" name="consent" value="true" required />
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
