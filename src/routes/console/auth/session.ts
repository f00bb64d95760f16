import { randomBytes } from 'node:crypto';
import { deriveKey, hmac, safeEqual, sha256Hex } from '../../../core/crypto.js';

/**
 * The console's session and CSRF tokens, with no HTTP in them (the cookie and form plumbing is guard.ts).
 *
 * A session is a signed cookie, not a row: `<id>.<issued>.<expires>.<mac>`. The MAC's key is derived from
 * SECRET_KEY *and* the admin token, so changing ADMIN_TOKEN (or SECRET_KEY) ends every session at once;
 * that is the revocation. The CSRF token of a session is a MAC of its id under a second key, so it needs
 * no storage either and a token from one session is useless in another.
 *
 * The sign-in form has no session yet: it gets a nonce in its own short-lived cookie and the MAC of that
 * nonce in a hidden field (a signed double submit), so a page elsewhere cannot post it for the author.
 */

export const SESSION_COOKIE = 'quire_console';
export const LOGIN_COOKIE = 'quire_console_login';
/** How long a sign-in lasts; the author signs in again after that. */
export const SESSION_TTL_SECONDS = 12 * 60 * 60;
export const LOGIN_FORM_TTL_SECONDS = 60 * 60;

export interface ConsoleSession {
  id: string;
  issuedAt: Date;
  expiresAt: Date;
  /** The value every console form carries in its `_csrf` field. */
  csrf: string;
}

/** Keys bound to the admin token: a new token makes every cookie and form token signed before it fail. */
const keyFor = (secret: string, adminToken: string, purpose: string) =>
  deriveKey(secret, `console-${purpose}:${sha256Hex(adminToken)}`);

const mac = (secret: string, adminToken: string, purpose: string, data: string) =>
  hmac(keyFor(secret, adminToken, purpose), data).toString('base64url');

const csrfOf = (secret: string, adminToken: string, id: string) => mac(secret, adminToken, 'csrf', id);

const newId = () => randomBytes(18).toString('base64url');

/** A new session and the cookie value that carries it. */
export function issueSession(
  secret: string,
  adminToken: string,
  now: Date,
  ttlSeconds = SESSION_TTL_SECONDS,
): { cookie: string; session: ConsoleSession } {
  const id = newId();
  const issued = Math.floor(now.getTime() / 1000);
  const expires = issued + ttlSeconds;
  const body = `${id}.${issued.toString(36)}.${expires.toString(36)}`;
  return {
    cookie: `${body}.${mac(secret, adminToken, 'session', body)}`,
    session: sessionOf(secret, adminToken, id, issued, expires),
  };
}

/** The session a cookie carries, or null when it is missing, malformed, forged, signed for another token or expired. */
export function readSession(
  secret: string,
  adminToken: string,
  cookie: string | undefined,
  now: Date,
): ConsoleSession | null {
  if (!cookie || cookie.length > 200) return null;
  const match = /^([A-Za-z0-9_-]{24})\.([0-9a-z]{1,10})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
  if (!match) return null;
  const [, id, issuedText, expiresText, signature] = match as unknown as [string, string, string, string, string];
  const body = `${id}.${issuedText}.${expiresText}`;
  if (!safeEqual(signature, mac(secret, adminToken, 'session', body))) return null;
  const issued = Number.parseInt(issuedText, 36);
  const expires = Number.parseInt(expiresText, 36);
  const nowSeconds = now.getTime() / 1000;
  // A cookie from the future means a clock was wrong when it was made; refuse it rather than trust it longer.
  if (!(expires > nowSeconds) || issued > nowSeconds + 60 || expires <= issued) return null;
  return sessionOf(secret, adminToken, id, issued, expires);
}

function sessionOf(secret: string, adminToken: string, id: string, issued: number, expires: number): ConsoleSession {
  return {
    id,
    issuedAt: new Date(issued * 1000),
    expiresAt: new Date(expires * 1000),
    csrf: csrfOf(secret, adminToken, id),
  };
}

/** Whether a form's `_csrf` value is this session's token. */
export function csrfMatches(session: ConsoleSession, submitted: unknown): boolean {
  return typeof submitted === 'string' && submitted.length > 0 && safeEqual(submitted, session.csrf);
}

/** The sign-in form's nonce (for its cookie) and the token its hidden field carries. */
export function issueLoginForm(secret: string, adminToken: string): { nonce: string; csrf: string } {
  const nonce = newId();
  return { nonce, csrf: mac(secret, adminToken, 'login', nonce) };
}

/** The sign-in form's token for the nonce its cookie holds, or null without one. */
export function loginCsrfFor(secret: string, adminToken: string, nonce: string | undefined): string | null {
  if (!nonce || !/^[A-Za-z0-9_-]{24}$/.test(nonce)) return null;
  return mac(secret, adminToken, 'login', nonce);
}

/**
 * Where to go after signing in: a console path, never another site (`//evil.example` and `/\evil` are
 * both "another site" to a browser) and never the sign-in page itself.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 500) return '/admin';
  if (!/^\/admin(\/[A-Za-z0-9/_.~%-]*)?(\?[^#\\\s]*)?$/.test(next) || next.startsWith('/admin/login')) return '/admin';
  return next;
}
