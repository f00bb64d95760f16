import { describe, expect, it } from 'vitest';
import {
  csrfMatches,
  issueLoginForm,
  issueSession,
  loginCsrfFor,
  readSession,
  SESSION_TTL_SECONDS,
  safeNext,
} from '../../src/routes/console/auth/session.js';

const SECRET = 'unit-secret-key-that-is-long-enough-0123456789';
const TOKEN = 'unit-admin-token-0123456789';
const NOW = new Date('2026-11-25T12:00:00Z');
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

describe('console sessions', () => {
  it('reads back the session it issued, with the same id and CSRF token, until it expires', () => {
    const { cookie, session } = issueSession(SECRET, TOKEN, NOW);
    const read = readSession(SECRET, TOKEN, cookie, later(60));
    expect(read).toEqual(session);
    expect(session.expiresAt.getTime() - session.issuedAt.getTime()).toBe(SESSION_TTL_SECONDS * 1000);
    expect(readSession(SECRET, TOKEN, cookie, later(SESSION_TTL_SECONDS - 1))).not.toBeNull();
    expect(readSession(SECRET, TOKEN, cookie, later(SESSION_TTL_SECONDS))).toBeNull();
  });

  it('gives every session its own id and CSRF token', () => {
    const a = issueSession(SECRET, TOKEN, NOW).session;
    const b = issueSession(SECRET, TOKEN, NOW).session;
    expect(a.id).not.toBe(b.id);
    expect(a.csrf).not.toBe(b.csrf);
    expect(csrfMatches(a, a.csrf)).toBe(true);
    expect(csrfMatches(a, b.csrf)).toBe(false);
    expect(csrfMatches(a, '')).toBe(false);
    expect(csrfMatches(a, undefined)).toBe(false);
    expect(csrfMatches(a, [a.csrf])).toBe(false);
  });

  it('ends every session when the admin token or the secret changes', () => {
    const { cookie } = issueSession(SECRET, TOKEN, NOW);
    expect(readSession(SECRET, 'a-new-admin-token-0123456789', cookie, NOW)).toBeNull();
    expect(readSession('another-secret-key-that-is-long-enough-00', TOKEN, cookie, NOW)).toBeNull();
  });

  it('refuses any change to the cookie: id, times or signature', () => {
    const { cookie } = issueSession(SECRET, TOKEN, NOW);
    const [id, issued, expires, mac] = cookie.split('.') as [string, string, string, string];
    const longer = (Number.parseInt(expires, 36) + 86_400).toString(36);
    for (const forged of [
      `${id.replace(/^./, (ch) => (ch === 'a' ? 'b' : 'a'))}.${issued}.${expires}.${mac}`,
      `${id}.${issued}.${longer}.${mac}`,
      `${id}.${issued}.${expires}.${mac.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A'))}`,
      `${id}.${issued}.${expires}`,
      `${cookie}.x`,
      '',
      'x'.repeat(500),
    ]) {
      expect(readSession(SECRET, TOKEN, forged, NOW), forged).toBeNull();
    }
    expect(readSession(SECRET, TOKEN, undefined, NOW)).toBeNull();
  });

  it('refuses a cookie issued in the future (a clock that was wrong)', () => {
    const { cookie } = issueSession(SECRET, TOKEN, later(3600));
    expect(readSession(SECRET, TOKEN, cookie, NOW)).toBeNull();
  });

  it("binds the sign-in form's token to the nonce in its cookie", () => {
    const form = issueLoginForm(SECRET, TOKEN);
    expect(loginCsrfFor(SECRET, TOKEN, form.nonce)).toBe(form.csrf);
    expect(loginCsrfFor(SECRET, TOKEN, issueLoginForm(SECRET, TOKEN).nonce)).not.toBe(form.csrf);
    expect(loginCsrfFor(SECRET, TOKEN, undefined)).toBeNull();
    expect(loginCsrfFor(SECRET, TOKEN, 'not a nonce')).toBeNull();
    // A session's CSRF token is a different MAC: one never stands in for the other.
    const { session } = issueSession(SECRET, TOKEN, NOW);
    expect(loginCsrfFor(SECRET, TOKEN, session.id)).not.toBe(session.csrf);
  });
});

describe('where sign-in returns to', () => {
  it('keeps console paths with their query', () => {
    expect(safeNext('/admin')).toBe('/admin');
    expect(safeNext('/admin/subscribers?status=pending&topic=release')).toBe(
      '/admin/subscribers?status=pending&topic=release',
    );
  });

  it('never leaves the console, and never returns to the sign-in page', () => {
    for (const next of [
      'https://evil.example/admin',
      '//evil.example/admin',
      '/\\evil.example',
      '/admin\\@evil.example',
      '/administrator',
      '/admin/login',
      '/admin/login?next=/admin',
      '/',
      ' /admin',
      undefined,
      ['/admin'],
      `/admin/${'a'.repeat(600)}`,
    ]) {
      expect(safeNext(next), String(next)).toBe('/admin');
    }
  });
});
