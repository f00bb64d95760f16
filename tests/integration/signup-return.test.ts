import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEXTS } from '../../src/core/texts.js';
import { signFormStamp } from '../../src/core/tokens.js';
import { postSignup, postSignupForm, uniqueEmail } from '../support/factories.js';
import { createHarness, type Harness, TEST_SECRET } from '../support/harness.js';

const escaped = (s: string) => s.replaceAll("'", '&#39;');

describe('a signup from a reader’s side', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('pglite', { ALLOWED_ORIGINS: 'https://books.example', SIGNUP_MIN_FILL_MS: '1500' });
  });
  afterAll(() => h?.close());

  const stored = async (email: string) =>
    (await h.query('select id from subscribers where lower(email) = lower($1)', [email])).length > 0;

  // Guards against a form on the author's site coming back to quire's bare page instead of its own (item 3).
  it('goes back to the page the form was on when it is on an allowed origin, whatever the Referer', async () => {
    const res = await postSignupForm(
      h,
      { email: 'nope', consent: 'on', return_to: 'https://books.example/launch?ref=x#top' },
      { referer: '' },
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('https://books.example/launch?ref=x&error=invalid_email#signup');
  });

  // Guards against an autofilled form sent at once being told "check your inbox" and getting nothing (item 4).
  it('asks a person whose form was sent too fast to press the button again, keeping what was typed', async () => {
    const email = uniqueEmail('autofill');
    const res = await postSignupForm(h, {
      email,
      consent: 'on',
      form_ts: signFormStamp(TEST_SECRET, h.clock.now()),
      return_to: 'http://quire.test/subscribe',
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(TEXTS.tooFastTitle);
    expect(html).toContain(`value="${email}"`);
    expect(html).toMatch(/name="form_ts" value="\d+\.[\w-]+"/);
    expect(await stored(email)).toBe(false);
    // The same form sent again after the minimum is a signup.
    h.clock.advance(2000);
    const again = await postSignupForm(h, {
      email,
      consent: 'on',
      form_ts: /name="form_ts" value="([^"]+)"/.exec(html)![1]!,
    });
    expect(again.status).toBe(303);
    expect(await stored(email)).toBe(true);
  });

  it('still drops a filled honeypot quietly', async () => {
    const email = uniqueEmail('bot');
    const res = await postSignupForm(h, { email, consent: 'on', website: 'https://spam.example' });
    expect(res.headers.get('location')).toBe('http://quire.test/subscribed');
    expect(await stored(email)).toBe(false);
  });

  // Guards against the signup answer claiming "You're on the list" before the address is confirmed (item 5).
  it('says to check the inbox after a signup, not that the address is on the list', async () => {
    const res = await postSignup(h, { email: uniqueEmail('truth') });
    const body = (await res.json()) as { message: string };
    expect(body.message).toContain(TEXTS.signupAcceptedTitle);
    expect(body.message).not.toContain(TEXTS.subscribedBody);
    const page = await (await h.request('/subscribed', { headers: { accept: 'text/html' } })).text();
    expect(page).toContain(TEXTS.signupAcceptedTitle);
    expect(page).not.toContain(escaped(TEXTS.subscribedBody));
    expect(page).toContain('href="/resend-confirmation"');
  });

  // Guards against an empty submit flagging only the consent box, not the empty address (item 7).
  it('names the address first, and both fields when both are missing', async () => {
    const res = await postSignup(h, { email: '', consent: false });
    expect(res.status).toBe(422);
    const { error } = (await res.json()) as { error: { code: string; fields: { path: string }[] } };
    expect(error.code).toBe('invalid_email');
    expect(error.fields.map((f) => f.path)).toEqual(['email', 'consent']);
    const page = await postSignupForm(h, { email: '', return_to: 'http://quire.test/subscribe' });
    const html = await page.text();
    expect(html).toMatch(/id="quire-email"[^>]*aria-invalid="true"/);
    expect(html).toMatch(/id="quire-consent"[^>]*aria-invalid="true"/);
  });

  it('marks the forms quire renders with the minimum fill time, for the script to wait out', async () => {
    const html = await (await h.request('/subscribe', { headers: { accept: 'text/html' } })).text();
    expect(html).toContain('data-quire-min-fill-ms="1500"');
    expect(html).toContain('name="return_to" value="http://quire.test/subscribe"');
  });
});
