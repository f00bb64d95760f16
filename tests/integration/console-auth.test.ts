import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSession } from '../../src/routes/console/auth/session.js';
import {
  CONSOLE_ORIGIN,
  consoleGet,
  consolePost,
  hiddenField,
  loginForm,
  postLogin,
  SAME_ORIGIN,
  setCookies,
  signIn,
} from '../support/console.js';
import { ADMIN_TOKEN, createHarness, databaseKinds, type Harness, TEST_SECRET } from '../support/harness.js';

/**
 * The console's sign-in, at the HTTP level: sessions, their cookie, CSRF on every form, the rate limit
 * on sign-in attempts, and the admin token kept out of URLs and logs.
 */
describe.each(databaseKinds)('console sign-in on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  const html = { accept: 'text/html' };

  it('sends a request without a session to the sign-in page, remembering where it was going', async () => {
    const overview = await h.request('/admin', { headers: html });
    expect(overview.status).toBe(303);
    expect(overview.headers.get('location')).toBe('/admin/login');
    const deep = await h.request('/admin/subscribers?status=active', { headers: html });
    expect(deep.status).toBe(303);
    expect(deep.headers.get('location')).toBe('/admin/login?next=%2Fadmin%2Fsubscribers%3Fstatus%3Dactive');
    // A post without a session goes to the sign-in page too, and changes nothing.
    const post = await h.request('/admin/logout', {
      method: 'POST',
      headers: { ...SAME_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: '_csrf=x',
    });
    expect(post.status).toBe(303);
    expect(post.headers.get('location')).toBe('/admin/login');
  });

  it('signs in with the token once and sets a session cookie that is HttpOnly, SameSite=Strict, Secure and expiring', async () => {
    const res = await postLogin(h, ADMIN_TOKEN, { next: '/admin/subscribers?status=pending' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/subscribers?status=pending');
    const cookie = setCookies(res).get('quire_console')!;
    expect(cookie.header).toMatch(/; HttpOnly/);
    expect(cookie.header).toMatch(/; SameSite=Strict/);
    expect(cookie.header).toMatch(/; Secure/);
    expect(cookie.header).toMatch(/; Path=\/admin(;|$)/);
    expect(cookie.header).toMatch(/; Max-Age=43200/);
    expect(cookie.value).not.toContain(ADMIN_TOKEN);
    const page = await h.request('/admin', { headers: { ...html, cookie: `quire_console=${cookie.value}` } });
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline');
  });

  it('is Secure-less only on a development server, where it may run on plain http://localhost', async () => {
    const dev = await createHarness(kind, { NODE_ENV: 'development' });
    try {
      const cookie = setCookies(await postLogin(dev, ADMIN_TOKEN)).get('quire_console')!;
      expect(cookie.header).not.toMatch(/Secure/);
      expect(cookie.header).toMatch(/; HttpOnly/);
    } finally {
      await dev.close();
    }
  });

  it('refuses a wrong token with the form again, and no session', async () => {
    const res = await postLogin(h, 'not-the-admin-token-at-all', { ip: '198.51.100.20' });
    expect(res.status).toBe(401);
    expect(setCookies(res).has('quire_console')).toBe(false);
    const body = await res.text();
    expect(body).toContain('That is not the admin token.');
    expect(body).not.toContain('not-the-admin-token-at-all');
  });

  it('never takes the token from a URL, never puts it in one, and never logs it', async () => {
    const form = await loginForm(h);
    expect(form.html).toMatch(/<form method="post" action="\/admin\/login">/);
    expect(form.html).toMatch(/type="password"/);
    // A token in the query string signs nobody in, and the page does not repeat it.
    const viaUrl = await h.request(`/admin/login?token=${ADMIN_TOKEN}&next=/admin`, { headers: html });
    expect(setCookies(viaUrl).has('quire_console')).toBe(false);
    expect(await viaUrl.text()).not.toContain(ADMIN_TOKEN);
    expect((await h.request(`/admin?token=${ADMIN_TOKEN}`, { headers: html })).status).toBe(303);
    const signedIn = await postLogin(h, ADMIN_TOKEN, { next: '/admin' });
    expect(signedIn.headers.get('location')).not.toContain(ADMIN_TOKEN);
    expect(h.logs.join('\n')).not.toContain(ADMIN_TOKEN);
  });

  it('refuses a forged cross-site form post with 403, whatever it carries', async () => {
    const s = await signIn(h);
    for (const headers of [
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
      {},
    ]) {
      const res = await consolePost(h, s, '/admin/logout', {}, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(setCookies(res).has('quire_console'), 'the session survives').toBe(false);
    }
    const login = await loginForm(h);
    const crossSiteLogin = await h.request('/admin/login', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
        cookie: login.cookie,
      },
      body: new URLSearchParams({ _csrf: login.csrf, token: ADMIN_TOKEN }).toString(),
    });
    expect(crossSiteLogin.status).toBe(403);
    expect(setCookies(crossSiteLogin).has('quire_console')).toBe(false);
  });

  it("refuses a same-origin post without this session's CSRF token", async () => {
    const s = await signIn(h);
    const other = await signIn(h);
    for (const csrf of ['', 'x', other.csrf]) {
      const res = await consolePost(h, s, '/admin/logout', { _csrf: csrf });
      expect(res.status, `_csrf=${csrf}`).toBe(403);
    }
    // …and the sign-in form's own token is checked against its cookie.
    const form = await loginForm(h);
    const noCookie = await postLogin(h, ADMIN_TOKEN, { form: { cookie: '', csrf: form.csrf } });
    expect(noCookie.status).toBe(403);
    expect(setCookies(noCookie).has('quire_console')).toBe(false);
  });

  it('sends an expired, tampered or revoked cookie to the sign-in page', async () => {
    const s = await signIn(h);
    const value = s.cookie.split('=')[1]!;
    const flip = (v: string, i: number) => v.slice(0, i) + (v[i] === 'A' ? 'B' : 'A') + v.slice(i + 1);
    const forged = [
      flip(value, 3), // the session id
      flip(value, value.length - 2), // the signature
      value.replace(
        /\.([0-9a-z]+)\.([A-Za-z0-9_-]+)$/,
        (_m, exp: string, mac: string) => `.${(Number.parseInt(exp, 36) + 86_400).toString(36)}.${mac}`,
      ),
      issueSession(TEST_SECRET, 'another-admin-token-0123456789', h.clock.now()).cookie, // before the token changed
      issueSession('another-secret-key-that-is-long-enough-000', ADMIN_TOKEN, h.clock.now()).cookie,
      'garbage',
    ];
    for (const cookie of forged) {
      const res = await h.request('/admin', { headers: { ...html, cookie: `quire_console=${cookie}` } });
      expect(res.status, cookie).toBe(303);
      expect(res.headers.get('location')).toBe('/admin/login');
      expect(setCookies(res).get('quire_console')?.header, 'the bad cookie is cleared').toMatch(/Max-Age=0/);
    }
    expect((await consoleGet(h, s, '/admin')).status).toBe(200);
    h.clock.advance(12 * 3600 * 1000 + 1000);
    const expired = await consoleGet(h, s, '/admin');
    expect(expired.status).toBe(303);
    expect(expired.headers.get('location')).toBe('/admin/login');
  });

  it('signs out: the cookie is cleared and the sign-in page says so', async () => {
    const s = await signIn(h);
    const res = await consolePost(h, s, '/admin/logout');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/login?signed_out');
    expect(setCookies(res).get('quire_console')?.header).toMatch(/Max-Age=0/);
    const page = await h.request('/admin/login?signed_out', { headers: html });
    expect(await page.text()).toContain('You are signed out.');
  });

  it('limits sign-in attempts per address, the right token included once over the limit', async () => {
    const ip = '198.51.100.77';
    for (let i = 0; i < 10; i++) expect((await postLogin(h, `wrong-token-${i}-0123456789`, { ip })).status).toBe(401);
    const limited = await postLogin(h, ADMIN_TOKEN, { ip });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(setCookies(limited).has('quire_console')).toBe(false);
    expect(await limited.text()).toContain('Too many sign-in attempts');
    // Another address is not held back by this one.
    expect((await postLogin(h, ADMIN_TOKEN, { ip: '198.51.100.78' })).status).toBe(303);
    h.clock.advance(15 * 60 * 1000);
    expect((await postLogin(h, ADMIN_TOKEN, { ip })).status).toBe(303);
  });

  it('limits sign-in attempts from everywhere together', async () => {
    const fresh = await createHarness(kind);
    try {
      let last = 0;
      for (let i = 0; i < 101; i++)
        last = (await postLogin(fresh, 'wrong-token-0123456789', { ip: `192.0.2.${i}` })).status;
      expect(last).toBe(429);
    } finally {
      await fresh.close();
    }
  });

  it('answers a console path no page serves with a console 404 once signed in, and leaves the JSON API to its token', async () => {
    expect((await h.request('/admin/nothing-here', { headers: html })).status).toBe(303);
    const s = await signIn(h);
    const missing = await consoleGet(h, s, '/admin/nothing-here');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('There is no console page here.');
    // The session is not a credential for the JSON API.
    const api = await h.request('/admin/v1/stats', { headers: { cookie: s.cookie, accept: 'application/json' } });
    expect(api.status).toBe(401);
  });

  it('keeps the sign-in page and its form same-origin and uncached, with the form token in a hidden field', async () => {
    const page = await h.request('/admin/login', { headers: html });
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const body = await page.text();
    expect(hiddenField(body, '_csrf')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(setCookies(page).get('quire_console_login')?.header).toMatch(
      /HttpOnly.*SameSite=Strict|SameSite=Strict.*HttpOnly/,
    );
    expect(CONSOLE_ORIGIN).toBe(h.config.PUBLIC_URL);
  });
});
