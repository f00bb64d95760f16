import { signFormStamp } from '../../core/tokens.js';
import type { AppContext } from '../env.js';

/**
 * The signup form as quire renders it on its page at `path`: current consent text and version, a fresh
 * signed stamp, the minimum fill time, and the page to come back to when a plain post needs correcting.
 */
export function signupFormProps(c: AppContext, source: string, path: string = c.req.path) {
  const s = c.get('services');
  return {
    bookTitle: s.config.BOOK_TITLE,
    action: '/v1/subscriptions',
    consentText: s.config.CONSENT_TEXT,
    consentVersion: s.consentVersion,
    formStamp: signFormStamp(s.secret, s.now()),
    minFillMs: s.config.SIGNUP_MIN_FILL_MS,
    returnTo: `${s.config.PUBLIC_URL}${path}`,
    error: c.req.query('error'),
    source,
  };
}
