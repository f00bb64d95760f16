/** @jsxImportSource hono/jsx */
import { TEXTS } from '../../core/texts.js';
import { LandingPage, SubscribePage } from '../../pages/landing.js';
import { SIGNUP_PAGE_CSP, setCsp } from '../csp.js';
import type { AppContext } from '../env.js';
import { signupFormProps } from './signup-form-props.js';

export interface SignupAgain {
  /** The page of quire's the form was on: `/` (the demo) or `/subscribe`. */
  path: string;
  source: string;
  error?: string | undefined;
  invalid?: string[] | undefined;
  values: { email?: string | undefined; consent?: boolean | undefined };
  /** Sent sooner than SIGNUP_MIN_FILL_MS: ask for the button again. */
  tooFast?: boolean;
}

/**
 * A plain (no-script) signup shown again by quire itself, answering the post: with why, and with what
 * was typed, so nothing is lost and no address travels in a URL. The demo's own page outside production,
 * quire's signup page otherwise.
 */
export function signupPageAgain(c: AppContext, again: SignupAgain, status: 200 | 422) {
  const props = {
    ...signupFormProps(c, again.source, again.path),
    error: again.error,
    invalid: again.invalid,
    values: again.values,
  };
  setCsp(c, SIGNUP_PAGE_CSP);
  if (again.tooFast)
    return c.html(<SubscribePage {...props} title={TEXTS.tooFastTitle} intro={TEXTS.tooFastBody} />, status);
  if (again.path === '/' && c.get('services').config.NODE_ENV !== 'production')
    return c.html(<LandingPage {...props} />, status);
  return c.html(<SubscribePage {...props} />, status);
}
