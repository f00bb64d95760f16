/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { deriveKey, hmacHex, safeEqual } from '../../../core/crypto.js';
import { AppError } from '../../../core/errors.js';
import { hitRateLimits, type RateLimitHit } from '../../../core/rate-limit.js';
import { SignInPage } from '../../../pages/console/login.js';
import type { AppContext, AppEnv } from '../../env.js';
import { readBody, requestMeta } from '../../http.js';
import { consoleHeaders, sameOriginOnly, sessionCookieOptions, setSessionCookie } from './guard.js';
import {
  issueLoginForm,
  issueSession,
  LOGIN_COOKIE,
  LOGIN_FORM_TTL_SECONDS,
  loginCsrfFor,
  safeNext,
} from './session.js';

/**
 * Sign-in attempts, right or wrong, spend one hit per client address and one of a budget shared by every
 * address: guessing a token of 16 characters or more is hopeless anyway, and these keep it that way
 * without the author ever meeting the limit. Kept in the database, so every instance shares them.
 */
const PER_ADDRESS = { limit: 10, windowSeconds: 15 * 60 };
const EVERYONE = { limit: 100, windowSeconds: 60 * 60 };

/** POST /admin/login: check the token once, and swap it for a session cookie. */
export function registerSignIn(app: OpenAPIHono<AppEnv>) {
  app.post('/admin/login', async (c) => {
    consoleHeaders(c);
    await sameOriginOnly(c);
    const s = c.get('services');
    const token = s.config.ADMIN_TOKEN;
    const { data } = await readBody(c, ['form']);
    const next = safeNext(data.next);
    if (!token) return c.redirect('/admin/login', 303);
    await spendAttempt(c);

    const expected = loginCsrfFor(s.secret, token, getCookie(c, LOGIN_COOKIE));
    if (!expected || typeof data._csrf !== 'string' || !safeEqual(data._csrf, expected)) {
      return again(c, next, 'This sign-in form had expired. Please enter the token again.', 403);
    }
    if (typeof data.token !== 'string' || !safeEqual(data.token.trim(), token)) {
      s.log.warn('console sign-in refused', { requestId: c.get('requestId') });
      return again(c, next, 'That is not the admin token.', 401);
    }
    deleteCookie(c, LOGIN_COOKIE, sessionCookieOptions(c, 0, '/admin/login'));
    setSessionCookie(c, issueSession(s.secret, token, s.now()).cookie);
    s.log.info('console sign-in', { requestId: c.get('requestId') });
    return c.redirect(next, 303);
  });
}

async function spendAttempt(c: AppContext): Promise<void> {
  const s = c.get('services');
  const hits: RateLimitHit[] = [{ key: 'console-login:all', rule: EVERYONE }];
  const ip = requestMeta(c).ip;
  if (ip) hits.push({ key: `console-login:ip:${hmacHex(deriveKey(s.secret, 'rate-ip'), ip)}`, rule: PER_ADDRESS });
  const refused = (await hitRateLimits(s.db, hits, s.now())).find((r) => !r.allowed);
  if (refused && !refused.allowed) {
    const minutes = Math.ceil(refused.retryAfterSeconds / 60);
    throw new AppError(
      'rate_limited',
      `Too many sign-in attempts. Please wait ${minutes} minute${minutes === 1 ? '' : 's'} and try again.`,
      { retryAfterSeconds: refused.retryAfterSeconds },
    );
  }
}

/** The form again, with a new form token and what went wrong. */
function again(c: AppContext, next: string, error: string, status: 401 | 403) {
  const s = c.get('services');
  const form = issueLoginForm(s.secret, s.config.ADMIN_TOKEN!);
  setCookie(c, LOGIN_COOKIE, form.nonce, sessionCookieOptions(c, LOGIN_FORM_TTL_SECONDS, '/admin/login'));
  return c.html(<SignInPage bookTitle={s.config.BOOK_TITLE} csrf={form.csrf} next={next} error={error} />, status);
}
