import { signFormStamp } from '../../core/tokens.js';
import type { AppContext } from '../env.js';

/** The signup form as quire renders it: current consent text and version, a fresh signed stamp. */
export function signupFormProps(c: AppContext, source: string) {
  const s = c.get('services');
  return {
    bookTitle: s.config.BOOK_TITLE,
    action: '/v1/subscriptions',
    consentText: s.config.CONSENT_TEXT,
    consentVersion: s.consentVersion,
    formStamp: signFormStamp(s.secret, s.now()),
    error: c.req.query('error'),
    source,
  };
}
