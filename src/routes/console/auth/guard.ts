import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { AppError } from '../../../core/errors.js';
import { BASE_CSP, type CspDirectives, setCsp } from '../../csp.js';
import type { AppContext, AppEnv } from '../../env.js';
import { readBody } from '../../http.js';
import { type ConsoleSession, csrfMatches, readSession, SESSION_COOKIE, SESSION_TTL_SECONDS } from './session.js';

/**
 * The console's HTTP side of sign-in: every console route but the sign-in page itself runs behind
 * `consoleGuard`, which
 *  - answers with the console's CSP, no caching and no indexing;
 *  - refuses a cross-site form post (hono's csrf(): Origin must be PUBLIC_URL's, or Sec-Fetch-Site
 *    same-origin) with 403, before anything else is looked at;
 *  - sends a request without a valid session to the sign-in page (303), remembering where it was going;
 *  - on a POST, reads the form and checks its `_csrf` field against the session's token (403 otherwise).
 * A handler behind it reads the session with `consoleSession(c)`; the form is already parsed and cached,
 * so `readForm(c, schema)` (src/routes/body.ts) reads it again at no cost.
 */

type ConsoleEnv = { Variables: AppEnv['Variables'] & { console: ConsoleSession } };

/** Same-origin script for progressive enhancement; `fetch` back to us (live progress); framed previews from us. */
export const CONSOLE_CSP: CspDirectives = { ...BASE_CSP, scriptSrc: ["'self'"], connectSrc: ["'self'"] };

export const SAFE_METHOD = /^(GET|HEAD)$/;

/** The headers of every console answer, the sign-in page included. */
export function consoleHeaders(c: Context): void {
  setCsp(c, CONSOLE_CSP);
  c.header('Cache-Control', 'no-store');
  c.header('X-Robots-Tag', 'noindex');
}

/** Cross-site form posts are refused before the session or the body is read. */
export async function sameOriginOnly(c: Context): Promise<void> {
  const origin = new URL(servicesOf(c).config.PUBLIC_URL).origin;
  await csrf({ origin })(c, async () => {});
}

/** The cookie attributes: HttpOnly, SameSite=Strict, Secure outside development, only sent to /admin. */
export function sessionCookieOptions(c: Context, maxAge: number, path = '/admin') {
  return {
    path,
    httpOnly: true,
    sameSite: 'Strict' as const,
    secure: servicesOf(c).config.NODE_ENV !== 'development',
    maxAge,
  };
}

export function setSessionCookie(c: Context, value: string): void {
  setCookie(c, SESSION_COOKIE, value, sessionCookieOptions(c, SESSION_TTL_SECONDS));
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, sessionCookieOptions(c, 0));
}

const servicesOf = (c: Context) => (c as AppContext).get('services');

/** The signed-in session of a request `consoleGuard` let through. */
export const consoleSession = (c: Context): ConsoleSession => (c as Context<ConsoleEnv>).get('console');

export const consoleGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
  consoleHeaders(c);
  const unsafe = !SAFE_METHOD.test(c.req.method);
  if (unsafe) await sameOriginOnly(c);
  const s = c.get('services');
  const cookie = getCookie(c, SESSION_COOKIE);
  const session = s.config.ADMIN_TOKEN ? readSession(s.secret, s.config.ADMIN_TOKEN, cookie, s.now()) : null;
  if (!session) {
    if (cookie !== undefined) clearSessionCookie(c);
    const url = new URL(c.req.url);
    const next = unsafe ? '' : `?next=${encodeURIComponent(url.pathname + url.search)}`;
    return c.redirect(`/admin/login${url.pathname === '/admin' && !url.search ? '' : next}`, 303);
  }
  if (unsafe) {
    const { data } = await readBody(c, ['form']);
    if (!csrfMatches(session, data._csrf)) {
      throw new AppError('forbidden', 'This form is out of date. Go back, reload the page and try again.');
    }
  }
  (c as unknown as Context<ConsoleEnv>).set('console', session);
  await next();
};
